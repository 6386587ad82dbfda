"""What a station's connection keeps while it is open (a charger's lasts for days, and
thousands of them are mostly idle: docs/benchmarks.md, idle chargers)."""

from __future__ import annotations

import asyncio

from tests.unit.test_gateway_startup import SlowFleet, Station, gateway


async def test_an_admitted_station_s_scope_keeps_no_headers() -> None:
    fleet = SlowFleet()
    fleet.release.set()
    station = Station("ST-IDLE")
    scope = station.scope()
    serving = asyncio.create_task(gateway(fleet)(scope, station.receive, station.send))
    station.heartbeat(1)
    async with asyncio.timeout(2):
        await station.answered.wait()
    assert station.answers[0][0] == 3  # admitted and answered
    assert scope["headers"] == []  # read at the handshake, not kept for the socket's life
    station.inbox.put_nowait({"type": "websocket.disconnect"})
    await serving


async def test_a_refused_station_s_scope_is_left_as_it_came() -> None:
    fleet = SlowFleet()
    station = Station("ST-IDLE")
    scope = station.scope()
    scope["subprotocols"] = ["ocpp1.2"]  # refused: no version we speak
    await asyncio.wait_for(gateway(fleet)(scope, station.receive, station.send), 2)
    assert scope["headers"] != []
