"""Charging started from the app, end to end on voltbook's own simulated charger: the start
follows what the charger reports, a double tap starts once, energy rises, the driver stops
it, and only the driver sees it."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import simulated_station_spec
from tests.e2e.test_reservations import Headers, new_drivers
from tests.polling import eventually
from voltbook.sim import SimOptions, SimulatedStation


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_a_charge_started_from_the_app_runs_on_the_chargers_word_and_stops(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    engine: AsyncEngine,
    version: str,
) -> None:
    station_id = f"APP-{version}-{secrets.token_hex(3)}"
    spec = await simulated_station_spec(client, operator, server_url, engine, station_id, "C-1")
    options = SimOptions(
        version=version, session_rate=0, meter_interval=0.3, speed=1, auto_stop=False, seed=3,
        reconnect_base=0.1, reconnect_cap=0.5,
    )  # fmt: skip
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    driver, stranger = await new_drivers(engine, 2)

    async def charge() -> dict[str, Any]:
        return dict((await client.get(f"/api/v1/sessions/{started['id']}", headers=driver)).json())

    async def available() -> bool:
        seen = await client.get(f"/api/v1/operator/stations/{station_id}", headers=operator)
        return any(c["status"] == "Available" for c in seen.json().get("connectors", []))

    try:
        await eventually(available, timeout=20)
        body = {"station_id": station_id, "evse_id": 1}
        key = {"Idempotency-Key": f"tap-{version}"}
        answer = await client.post("/api/v1/sessions", json=body, headers=driver | key)
        assert answer.status_code == 201, answer.text
        started = answer.json()
        assert answer.headers["location"] == f"/api/v1/sessions/{started['id']}"
        assert started["state"] in ("plug_in", "starting", "charging")

        again = await client.post("/api/v1/sessions", json=body, headers=driver | key)
        assert again.status_code == 201
        assert again.headers["idempotent-replayed"] == "true"
        assert again.json()["id"] == started["id"]
        other = await client.post(
            "/api/v1/sessions", json=body | {"evse_id": 2}, headers=driver | key
        )
        assert other.status_code == 422

        async def charging_with_energy() -> bool:
            now = await charge()
            return now["state"] == "charging" and now["energy_wh"] > 0

        await eventually(charging_with_energy, timeout=20)
        assert len(station.sessions) == 1  # the double tap started once
        assert (
            await client.get(f"/api/v1/sessions/{started['id']}", headers=stranger)
        ).status_code == 404

        stopped = await client.post(f"/api/v1/sessions/{started['id']}/stop", headers=driver)
        assert stopped.status_code == 200, stopped.text

        async def finished() -> bool:
            return (await charge())["state"] == "finished"

        await eventually(finished, timeout=20)
        mine = (await client.get("/api/v1/me/sessions", headers=driver)).json()["items"]
        assert [m["id"] for m in mine] == [started["id"]]
        assert mine[0]["energy_wh"] > 0
        assert mine[0]["duration_s"] > 0
        assert (await client.get("/api/v1/me/sessions", headers=stranger)).json()["items"] == []
    finally:
        await station.stop()
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)


async def test_a_start_on_a_busy_or_unknown_connector_is_refused(
    client: httpx.AsyncClient, engine: AsyncEngine, operator: Headers
) -> None:
    [driver] = await new_drivers(engine, 1)
    station_id = f"APP-OFF-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201
    answer = await client.post(
        "/api/v1/sessions",
        json={"station_id": station_id, "evse_id": 1},
        headers=driver | {"Idempotency-Key": "k1"},
    )
    assert answer.status_code == 404  # no such EVSE reported yet
    missing_key = await client.post(
        "/api/v1/sessions", json={"station_id": station_id, "evse_id": 1}, headers=driver
    )
    assert missing_key.status_code == 422
