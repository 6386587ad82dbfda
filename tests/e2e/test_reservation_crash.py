"""The server killed while bookings are in flight: after a restart every acknowledged booking
is there, and every pending hand-off reaches the charger exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import free_port
from tests.e2e.ocpp_client import connect
from tests.e2e.test_reservations import ACCEPT_ALL, SECRET, new_drivers
from voltbook.storage.tables import connectors, stations

HAND_OFF_AFTER_S = 40  # room for a restart on a busy machine before hand-offs fall due


async def start_server(env: dict[str, str], port: int, log: Path) -> asyncio.subprocess.Process:
    with log.open("ab") as sink:
        server = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voltbook", "serve", "--port", str(port), env=env,
            stdout=sink, stderr=sink,
        )  # fmt: skip
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
        for _ in range(300):
            with contextlib.suppress(httpx.TransportError):
                if (await client.get("/readyz")).status_code == 200:
                    return server
            await asyncio.sleep(0.1)
    raise AssertionError("the server did not come up")


async def story(engine: AsyncEngine, ids: set[int]) -> str:
    """What the database says happened to these bookings: their history and their jobs."""
    async with engine.connect() as connection:
        history = await connection.execute(
            sa.text("SELECT reservation_id, at, status, reason FROM reservation_history"
                    " ORDER BY reservation_id, id")
        )  # fmt: skip
        jobs = await connection.execute(
            sa.text("SELECT reservation_id, kind, due_at, locked_until, attempts, done_at"
                    " FROM reservation_jobs ORDER BY reservation_id, id")
        )  # fmt: skip
        lines = [str(tuple(row)) for row in history if row[0] in ids]
        lines += [str(tuple(row)) for row in jobs if row[0] in ids]
    return "\n".join(lines)


async def test_acknowledged_bookings_survive_a_crash_and_hand_offs_resume_once(
    own_database: tuple[str, AsyncEngine], tmp_path: Path
) -> None:
    # A database of its own: no other server may poll (and take) its hand-offs.
    database_url, engine = own_database
    from voltbook.security.passwords import Argon2idHasher

    async with engine.begin() as connection:
        await connection.execute(
            stations.insert().values(
                id="CRASH-1",
                online=False,
                created_at=datetime.now(UTC),
                password_hash=Argon2idHasher(time_cost=1, memory_cost_kib=8192).hash(
                    "crash-test-password"
                ),
            )
        )
        await connection.execute(
            connectors.insert(),
            [
                {"station_id": "CRASH-1", "evse_id": e, "connector_id": 1, "status": "Available"}
                for e in range(1, 101)  # a big hub: every booking below gets its own EVSE
            ],
        )
    drivers = await new_drivers(engine, 50)
    port = free_port()
    slot = timedelta(hours=1)
    env = os.environ | {
        "VOLTBOOK_DATABASE_URL": database_url,
        "VOLTBOOK_DATA_DIR": str(tmp_path),
        "VOLTBOOK_JWT_SECRET": SECRET,
        "VOLTBOOK_LOG_LEVEL": "warning",
        # Each slot's hand-off falls due a few seconds after booking: after the restart.
        "VOLTBOOK_RESERVATION_LEAD_S": str(int(slot.total_seconds()) - HAND_OFF_AFTER_S),
    }
    log = tmp_path / "server.log"
    server = await start_server(env, port, log)
    base = datetime.now(UTC).replace(microsecond=0) + slot
    acknowledged: list[int] = []

    async def book(number: int, who: dict[str, str], client: httpx.AsyncClient) -> None:
        # Spread over about two seconds, so that the kill falls amid them, not after a
        # single batch has answered them all.
        await asyncio.sleep(number * 0.02)
        body = {
            "station_id": "CRASH-1",
            "start": base.isoformat(),
            "minutes": 30,
        }
        with contextlib.suppress(httpx.TransportError):
            answer = await client.post(
                "/api/v1/reservations", json=body, headers=who | {"Idempotency-Key": f"k{number}"}
            )
            if answer.status_code == 201:
                acknowledged.append(answer.json()["id"])
                if len(acknowledged) == 10:
                    server.send_signal(signal.SIGKILL)  # mid-flight, no shutdown of any kind

    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
        flight = [
            asyncio.create_task(book(n, who, client)) for n, who in enumerate(drivers + drivers)
        ]
        async with asyncio.timeout(60):
            await asyncio.gather(*flight)
        await server.wait()
    assert 10 <= len(acknowledged) < 100

    restarted = asyncio.get_running_loop().time()
    server = await start_server(env, port, log)
    try:
        async with connect(f"http://127.0.0.1:{port}", "CRASH-1", "crash-test-password") as charger:
            charger.answers = dict(ACCEPT_ALL)
            async with engine.connect() as connection:
                stored = set(
                    (await connection.execute(sa.text("SELECT id FROM reservations"))).scalars()
                )
            assert set(acknowledged) <= stored

            def reserved() -> Counter[int]:
                return Counter(
                    f[3]["reservationId"] for f in charger.received_calls if f[2] == "ReserveNow"
                )

            try:
                async with asyncio.timeout(HAND_OFF_AFTER_S + 60):
                    while set(reserved()) != stored:
                        await asyncio.sleep(0.2)
            except TimeoutError:
                missing = stored - set(reserved())
                raise AssertionError(
                    f"no ReserveNow for {sorted(missing)}; restart took "
                    f"{asyncio.get_running_loop().time() - restarted:.0f} s; "
                    + await story(engine, missing)
                    + "\nserver log:\n"
                    + log.read_text()[-4000:]
                ) from None
            await asyncio.sleep(2)  # nothing more arrives
            assert set(reserved().values()) == {1}
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            async with asyncio.timeout(20):
                await server.wait()
        except TimeoutError:
            server.kill()
            await server.wait()
