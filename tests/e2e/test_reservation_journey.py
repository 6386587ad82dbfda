"""A driver's booking, end to end, on voltbook's own simulated charger: the charger shows
Reserved when the hand-off is due (not before), nobody else can start there, and the
holder's session fulfils the booking."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import simulated_station_spec
from tests.e2e.test_reservations import Headers, new_drivers
from tests.polling import eventually
from voltbook.sim import SimOptions, SimulatedStation

LEAD = timedelta(minutes=5)  # the server's default hand-off lead time
AHEAD = timedelta(seconds=4)  # the hand-off falls due this long after booking


def connector_status(station: SimulatedStation, evse_id: int) -> str:
    return str(station.connectors[evse_id].status)


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_booked_charger_is_reserved_on_time_and_charges_only_for_its_holder(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    engine: AsyncEngine,
    version: str,
) -> None:
    station_id = f"TRIP-{version}-{secrets.token_hex(3)}"
    spec = await simulated_station_spec(  # with a stranger's card the network accepts
        client, operator, server_url, engine, station_id, "CARD-OTHER"
    )
    options = SimOptions(
        version=version, session_rate=0, meter_interval=0.5, speed=1, id_tags=("CARD-OTHER",),
        auto_stop=False, seed=11, reconnect_base=0.1, reconnect_cap=0.5,
    )  # fmt: skip
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    [driver] = await new_drivers(engine, 1)

    async def booking() -> dict[str, Any]:
        found = await client.get(f"/api/v1/reservations/{booked['id']}", headers=driver)
        return dict(found.json())

    async def server_says(status: str) -> bool:
        seen = await client.get(f"/api/v1/operator/stations/{station_id}", headers=operator)
        return any(
            c["evse_id"] == 1 and c["status"] == status for c in seen.json().get("connectors", [])
        )

    try:
        await eventually(lambda: station.booted, timeout=20)
        await eventually(lambda: server_says("Available"), timeout=20)
        start = datetime.now(UTC) + LEAD + AHEAD
        answer = await client.post(
            "/api/v1/reservations",
            json={"station_id": station_id, "connector_id": 1, "start": start.isoformat(),
                  "minutes": 30},
            headers=driver | {"Idempotency-Key": "trip-1"},
        )  # fmt: skip
        assert answer.status_code == 201, answer.text
        booked = answer.json()
        assert booked["status"] == "scheduled"
        assert connector_status(station, 1) == "Available"  # not before its time

        async def is_(status: str) -> bool:
            return (await booking())["status"] == status

        await eventually(lambda: server_says("Reserved"), timeout=20)
        assert connector_status(station, 1) == "Reserved"
        await eventually(lambda: is_("held"), timeout=20)
        assert datetime.now(UTC) >= start - LEAD  # the charger was told when it was due

        assert not await station.start_session(1, "CARD-OTHER")  # held for someone else
        assert connector_status(station, 1) == "Reserved"

        assert await station.start_session(1, booked["id_tag"])
        await eventually(lambda: station.sessions.get(1) is not None, timeout=20)

        await eventually(lambda: is_("fulfilled"), timeout=20)
        history = [h["change"] for h in (await booking())["history"]]
        assert history == [None, "held", "fulfilled"]
        await eventually(lambda: server_says("Charging"), timeout=20)
    finally:
        await station.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
