"""A connection's start-up (its connect and first calls) takes one of a few slots shared by all
stations, so that a fleet reconnecting at once cannot starve handshakes or stations already up
(docs/adr/0034); a station past its start-up never waits for a slot."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

from voltbook.core.clock import SystemClock
from voltbook.ocpp.gateway import STARTUP_CALLS, STARTUP_SLOTS, OcppGateway
from voltbook.ocpp.link import LocalStationLink
from voltbook.ocpp.validation import SchemaValidator
from voltbook.stations.fleet import Admission


class SlowFleet:
    """Admits everyone; each heartbeat takes as long as the test holds `release` shut."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.busy = 0
        self.most_busy = 0

    async def admit(self, station_id: str, password: str) -> Admission:
        return Admission.ADMITTED

    async def connected(self, station_id: str, version: str) -> None:
        return None

    async def disconnected(self, station_id: str) -> None:
        return None

    async def heard_from(self, station_id: str) -> None:
        self.busy += 1
        self.most_busy = max(self.most_busy, self.busy)
        try:
            await self.release.wait()
        finally:
            self.busy -= 1


class Station:
    """One WebSocket connection as the ASGI server hands it to the gateway."""

    def __init__(self, station_id: str) -> None:
        self.station_id = station_id
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.inbox.put_nowait({"type": "websocket.connect"})
        self.answers: list[Any] = []
        self.answered = asyncio.Event()

    def scope(self) -> dict[str, Any]:
        credentials = base64.b64encode(f"{self.station_id}:station-password-0001".encode())
        return {
            "type": "websocket",
            "path_params": {"station_id": self.station_id},
            "subprotocols": ["ocpp1.6"],
            "headers": [(b"authorization", b"Basic " + credentials)],
        }

    def heartbeat(self, n: int) -> None:
        self.inbox.put_nowait({"type": "websocket.receive", "text": f'[2,"h{n}","Heartbeat",{{}}]'})

    async def receive(self) -> dict[str, Any]:
        return await self.inbox.get()

    async def send(self, message: dict[str, Any]) -> None:
        if message["type"] == "websocket.send":
            self.answers.append(json.loads(message["text"]))
            self.answered.set()


def gateway(fleet: SlowFleet) -> OcppGateway:
    validator = SchemaValidator()
    return OcppGateway(fleet, None, LocalStationLink(validator), SystemClock(), validator)  # type: ignore[arg-type]


async def test_start_up_calls_of_many_stations_share_a_few_slots() -> None:
    fleet = SlowFleet()
    serving = gateway(fleet)
    stations = [Station(f"ST-{n}") for n in range(STARTUP_SLOTS * 3)]
    tasks = [asyncio.create_task(serving(s.scope(), s.receive, s.send)) for s in stations]
    for station in stations:
        station.heartbeat(1)
    await asyncio.sleep(0.05)
    assert fleet.busy == STARTUP_SLOTS  # the others wait their turn
    fleet.release.set()
    async with asyncio.timeout(2):
        for station in stations:
            await station.answered.wait()
    assert fleet.most_busy == STARTUP_SLOTS
    for station in stations:
        station.inbox.put_nowait({"type": "websocket.disconnect"})
    await asyncio.gather(*tasks)


async def test_a_station_past_its_start_up_does_not_wait_for_a_slot() -> None:
    fleet = SlowFleet()
    fleet.release.set()
    serving = gateway(fleet)
    up = Station("ST-UP")
    up_task = asyncio.create_task(serving(up.scope(), up.receive, up.send))
    for n in range(STARTUP_CALLS):  # its start-up, done
        up.heartbeat(n)
    async with asyncio.timeout(2):
        while len(up.answers) < STARTUP_CALLS:
            await asyncio.sleep(0.01)
    fleet.release.clear()
    crowd = [Station(f"ST-NEW-{n}") for n in range(STARTUP_SLOTS)]  # a storm fills the slots
    tasks = [asyncio.create_task(serving(s.scope(), s.receive, s.send)) for s in crowd]
    for station in crowd:
        station.heartbeat(1)
    await asyncio.sleep(0.05)
    assert fleet.busy == STARTUP_SLOTS
    up.heartbeat(99)  # the station already up still gets its call worked on
    await asyncio.sleep(0.05)
    assert fleet.busy == STARTUP_SLOTS + 1
    fleet.release.set()
    async with asyncio.timeout(2):
        while len(up.answers) < STARTUP_CALLS + 1:
            await asyncio.sleep(0.01)
    for station in [*crowd, up]:
        station.inbox.put_nowait({"type": "websocket.disconnect"})
    await asyncio.gather(*tasks, up_task)
