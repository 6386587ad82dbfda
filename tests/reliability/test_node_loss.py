"""Node loss: two `voltbook serve` nodes (PostgreSQL, Redis) behind one address, a TCP proxy
that sends each connection to the first node that takes it. Node A is killed (SIGKILL): its
station and its app reconnect through the same address and land on node B; the hand-off
booked before still reaches the charger once (a ReserveNow sent again carries the same
reservationId), and the app resumes with `since` without missing a notice. An account ended
on one node closes its live channel on the other within 5 s."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.ocpp_client import ScriptedStation, connect
from tests.e2e.test_many_nodes import (
    STATION,
    STATION_PASSWORD,
    TwoNodes,
    driver_token,
    next_of,
    nodes,
    pg_engine,
    pg_url,
)
from tests.reliability.failover_proxy import failover_proxy

__all__ = ["nodes", "pg_engine", "pg_url"]
# Two server processes per test (about 45 s each on the development machine): a long check,
# run with `./dev reliability`.
pytestmark = [pytest.mark.postgres, pytest.mark.long]

LEAD_S = 6  # the hold is handed to the charger this long before the booking starts
ACCEPT = {"ReserveNow": {"status": "Accepted"}, "CancelReservation": {"status": "Accepted"}}


@pytest.fixture
def node_env() -> dict[str, str]:
    return {"VOLTBOOK_RESERVATION_LEAD_S": str(LEAD_S)}


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def reserve_nows(*stations: ScriptedStation) -> list[dict[str, Any]]:
    return [call[3] for s in stations for call in s.received_calls if call[2] == "ReserveNow"]


async def report_available(station: ScriptedStation) -> None:
    stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
    await station.call(
        "StatusNotification",
        {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": stamp},
    )


async def closed(socket: websockets.ClientConnection, within_s: float) -> int | None:
    """The close code once the server closed the socket (None if it did not, in time)."""
    try:
        async with asyncio.timeout(within_s):
            async for _ in socket:
                pass
    except TimeoutError:
        return None
    except websockets.ConnectionClosed:  # a close code other than 1000 or 1001, or none
        pass
    return socket.close_code or 1006  # 1006: no close frame, the node is gone


async def test_a_killed_node_s_station_and_app_move_to_the_other_and_nothing_is_lost(
    nodes: TwoNodes, pg_engine: AsyncEngine
) -> None:
    _, driver = await driver_token(pg_engine)
    upstreams = [("127.0.0.1", port_of(nodes.a.url)), ("127.0.0.1", port_of(nodes.b.url))]
    async with failover_proxy(upstreams) as proxy:
        address = f"http://127.0.0.1:{proxy.port}"  # the one URL the charger and app know
        live = address.replace("http://", "ws://") + "/api/v1/live"
        seqs: list[int] = []
        async with (
            connect(address, STATION, STATION_PASSWORD) as before,
            websockets.connect(live, additional_headers=driver) as app,
            httpx.AsyncClient(base_url=nodes.b.url, timeout=20) as node_b,
        ):
            assert proxy.routed == [port_of(nodes.a.url)] * 2  # both on node A
            before.answers = dict(ACCEPT)
            await report_available(before)
            await next_of(app, "welcome")
            start = datetime.now(UTC) + timedelta(seconds=LEAD_S + 6)
            booked = await node_b.post(
                "/api/v1/reservations",
                json={"station_id": STATION, "connector_id": 1, "minutes": 30,
                      "start": start.isoformat()},
                headers=driver | {"Idempotency-Key": "node-loss-1"},
            )  # fmt: skip
            assert booked.status_code == 201, booked.text
            created = await next_of(app, "reservation.updated")
            seqs.append(int(str(created["seq"])))
            assert reserve_nows(before) == []  # not yet due: node A is killed before it is

            nodes.a.process.kill()  # SIGKILL: no goodbye to anyone
            await nodes.a.process.wait()
            killed_at = time.monotonic()
            assert await closed(app, within_s=10) is not None

        # Both reconnect to the one address, as a charger and an app do, and land on node B.
        async with (
            connect(address, STATION, STATION_PASSWORD) as after,
            websockets.connect(f"{live}?since={seqs[-1]}", additional_headers=driver) as app,
        ):
            moved_s = time.monotonic() - killed_at
            assert proxy.routed[-2:] == [port_of(nodes.b.url)] * 2
            after.answers = dict(ACCEPT)
            await report_available(after)
            await next_of(app, "welcome")
            held = await next_of_within(app, "reservation.updated", LEAD_S + 20)
            seqs.append(int(str(held["seq"])))
            assert held["event"] == "held", (held, nodes.logs())
            await asyncio.sleep(3)  # a second hand-off, if any, would come now
            sent = reserve_nows(before, after)
        assert len(sent) >= 1, nodes.logs()
        assert len({s["reservationId"] for s in sent}) == 1, sent  # once, or resent as the same
    assert seqs == [seqs[0], seqs[0] + 1], seqs  # no notice missed across the move
    print(f"\nstation and app back on node B {moved_s:.2f} s after node A was killed")


async def next_of_within(
    socket: websockets.ClientConnection, kind: str, timeout_s: float
) -> dict[str, object]:
    async with asyncio.timeout(timeout_s):
        while True:
            message: dict[str, object] = json.loads(await socket.recv())
            if message["type"] == kind:
                return message


async def test_an_account_ended_on_node_a_closes_its_live_channel_on_node_b_within_5_s(
    nodes: TwoNodes, pg_engine: AsyncEngine
) -> None:
    _, driver = await driver_token(pg_engine)
    live_b = nodes.b.url.replace("http://", "ws://") + "/api/v1/live"
    async with (
        websockets.connect(live_b, additional_headers=driver) as app,
        httpx.AsyncClient(base_url=nodes.a.url, timeout=20) as node_a,
    ):
        await next_of(app, "welcome")
        ended = await node_a.post("/api/v1/auth/logout", headers=driver)
        assert ended.status_code == 204, ended.text
        started = time.monotonic()
        assert await closed(app, within_s=5) == 4401, nodes.logs()
    print(f"\nclosed on node B {time.monotonic() - started:.2f} s after the sign-out on node A")
