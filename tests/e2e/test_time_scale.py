"""A server started for a simulation runs its domain time faster than real time (ADR 0020):
a booking is handed to the charger, and expires as a no-show, at the scaled time; a token's
lifetime runs out in scaled time too."""

from __future__ import annotations

import asyncio
import secrets
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import simulated_station_spec
from tests.e2e.test_reservations import Headers, new_drivers
from tests.polling import eventually
from voltbook.core.clock import ScaledClock
from voltbook.sim import SimOptions, SimulatedStation, use_simulated_time

SCALE = 120.0  # two simulated minutes per real second
ANCHOR = time.time()
ORIGIN = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
CLOCK = ScaledClock(SCALE, ORIGIN, ANCHOR)  # the same numbers as the server's: the same time
LEAD = timedelta(minutes=5)
GRACE = timedelta(minutes=5)


@pytest.fixture
def app_overrides() -> dict[str, object]:
    return {
        "simulation": True,
        "time_scale": SCALE,
        "time_origin": ORIGIN,
        "time_anchor": ANCHOR,
        "reservation_grace_s": int(GRACE.total_seconds()),
        "token_lifetime_s": 600,
    }


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    return own_database[1]


async def operator_headers(http: httpx.AsyncClient, engine: AsyncEngine) -> Headers:
    from tests.e2e.conftest import OPERATOR_PASSWORD
    from voltbook.storage.tables import drivers

    email = f"op-{secrets.token_hex(3)}@example.org"
    made = await http.post(
        "/api/v1/auth/register", json={"email": email, "password": OPERATOR_PASSWORD}
    )
    assert made.status_code == 201, made.text
    async with engine.begin() as connection:
        await connection.execute(
            drivers.update().where(drivers.c.email == email).values(role="operator")
        )
    token = await http.post(
        "/api/v1/auth/token", data={"username": email, "password": OPERATOR_PASSWORD}
    )
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


async def test_a_booking_is_handed_over_and_expires_at_the_scaled_time(
    base: str, http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    operator = await operator_headers(http, engine)
    station_id = f"SCALED-{secrets.token_hex(3)}"
    spec = await simulated_station_spec(http, operator, base, engine, station_id, "CARD-X")
    options = SimOptions(
        version="1.6", session_rate=0, speed=SCALE, auto_stop=False, seed=3,
        reconnect_base=0.1, reconnect_cap=0.5,
    )  # fmt: skip
    use_simulated_time(SCALE, ORIGIN, ANCHOR)  # the charger reads the server's time
    station = SimulatedStation(base, spec, options)
    running = asyncio.create_task(station.run())
    [driver] = await new_drivers(engine, 1)
    try:
        await eventually(lambda: asyncio.sleep(0, station.booted), timeout=20)
        start = CLOCK.now() + LEAD + timedelta(minutes=2)  # hand-off due in 2 simulated min
        real_start = time.monotonic()
        answer = await http.post(
            "/api/v1/reservations",
            json={"station_id": station_id, "connector_id": 1, "start": start.isoformat(),
                  "minutes": 30},
            headers=driver | {"Idempotency-Key": "scaled-1"},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        booked = answer.json()

        async def status() -> str:
            found = await http.get(f"/api/v1/reservations/{booked['id']}", headers=driver)
            return str(found.json()["status"])

        await eventually(lambda: _is(status, "held"), timeout=15)
        assert CLOCK.now() >= start - LEAD  # not before its simulated time
        assert str(station.connectors[1].status) == "Reserved"
        await eventually(lambda: _is(status, "expired"), timeout=20)  # nobody came
        assert CLOCK.now() >= start + GRACE
        # 12 simulated minutes from booking to no-show took seconds, not 12 minutes.
        assert time.monotonic() - real_start < 30
    finally:
        await station.stop()
        use_simulated_time(1.0, None, 0.0)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_token_lifetime_runs_out_in_scaled_time(
    http: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    operator = await operator_headers(http, engine)  # a 600 s token: 5 real seconds
    assert (await http.get("/api/v1/me", headers=operator)).status_code == 200
    await asyncio.sleep(600 / SCALE + 0.5)
    assert (await http.get("/api/v1/me", headers=operator)).status_code == 401


async def _is(read: object, wanted: str) -> bool:
    return await read() == wanted  # type: ignore[operator]
