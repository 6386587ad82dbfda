"""Rotating a station's password without locking the charger out (docs/adr/0025): the new
password goes over the open connection (1.6 ChangeConfiguration AuthorizationKey, hex; 2.0.1
SetVariables SecurityCtrlr.BasicAuthPassword); the old one stays accepted until the charger
connects with the new one, and is refused from then on. A station that refuses changes
nothing."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import simulated_station_spec
from tests.e2e.ocpp_client import ScriptedStation, connect
from tests.polling import eventually
from voltbook.sim import SimOptions, SimulatedStation
from voltbook.storage.tables import stations

Headers = dict[str, str]
VERSIONS = ["ocpp1.6", "ocpp2.0.1"]


def answer_to_password_change(version: str, status: str) -> tuple[str, dict[str, Any]]:
    if version == "ocpp1.6":
        return "ChangeConfiguration", {"status": status}
    result = {
        "attributeStatus": status,
        "component": {"name": "SecurityCtrlr"},
        "variable": {"name": "BasicAuthPassword"},
    }
    return "SetVariables", {"setVariableResult": [result]}


def password_sent(version: str, station: ScriptedStation) -> str:
    """What the station was told to use, read the way a charger reads it."""
    [call] = [c for c in station.received_calls if c[2] in ("ChangeConfiguration", "SetVariables")]
    if version == "ocpp1.6":
        assert call[3]["key"] == "AuthorizationKey"
        return bytes.fromhex(call[3]["value"]).decode()
    [item] = call[3]["setVariableData"]
    assert (item["component"]["name"], item["variable"]["name"]) == (
        "SecurityCtrlr",
        "BasicAuthPassword",
    )
    return str(item["attributeValue"])


async def register(client: httpx.AsyncClient, operator: Headers, prefix: str) -> tuple[str, str]:
    station_id = f"{prefix}-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201, made.text
    return station_id, str(made.json()["password"])


async def refused(server_url: str, station_id: str, password: str, version: str) -> int:
    with pytest.raises(websockets.InvalidStatus) as error:
        async with connect(server_url, station_id, password, version):
            pass
    return error.value.response.status_code


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_rotation_keeps_the_old_password_until_the_charger_uses_the_new(
    client: httpx.AsyncClient, operator: Headers, server_url: str, version: str
) -> None:
    station_id, old = await register(client, operator, "ROT")
    async with connect(server_url, station_id, old, version) as station:
        action, answer = answer_to_password_change(version, "Accepted")
        station.answers[action] = answer
        rotated = await client.post(
            f"/api/v1/operator/stations/{station_id}/password-rotation", headers=operator
        )
        assert rotated.status_code == 200, rotated.text
        body = rotated.json()
        assert (body["action"], body["status"]) == (action, "Accepted")
        new = body["password"]
        assert new is not None
        assert new != old
        assert 16 <= len(new) <= 40
        assert password_sent(version, station) == new
        # The connection the password went over keeps working.
        assert (await station.call("Heartbeat", {}))[0] == 3
        # Until the charger uses the new password, the old one still lets it in (say it
        # rebooted before it stored the new one).
        async with connect(server_url, station_id, old, version) as again:
            assert (await again.call("Heartbeat", {}))[0] == 3
    async with connect(server_url, station_id, new, version) as station:
        assert (await station.call("Heartbeat", {}))[0] == 3
    assert await refused(server_url, station_id, old, version) == 401
    async with connect(server_url, station_id, new, version) as station:
        assert (await station.call("Heartbeat", {}))[0] == 3


@pytest.mark.parametrize("version", VERSIONS)
async def test_a_rotation_the_station_rejects_changes_nothing(
    client: httpx.AsyncClient, operator: Headers, server_url: str, version: str
) -> None:
    station_id, old = await register(client, operator, "ROTNO")
    async with connect(server_url, station_id, old, version) as station:
        action, answer = answer_to_password_change(version, "Rejected")
        station.answers[action] = answer
        rotated = await client.post(
            f"/api/v1/operator/stations/{station_id}/password-rotation", headers=operator
        )
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["status"] == "Rejected"
        assert rotated.json()["password"] is None
        assert rotated.json()["response"] == answer  # the station's own answer, shown
        offered = password_sent(version, station)
        assert (await station.call("Heartbeat", {}))[0] == 3
    assert await refused(server_url, station_id, offered, version) == 401
    async with connect(server_url, station_id, old, version) as station:
        assert (await station.call("Heartbeat", {}))[0] == 3


async def test_a_rotation_without_a_connection_is_refused_and_changes_nothing(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    station_id, old = await register(client, operator, "ROTOFF")
    rotated = await client.post(
        f"/api/v1/operator/stations/{station_id}/password-rotation", headers=operator
    )
    assert rotated.status_code == 409, rotated.text
    assert rotated.headers["content-type"].startswith("application/problem+json")
    async with connect(server_url, station_id, old) as station:
        assert (await station.call("Heartbeat", {}))[0] == 3
    missing = await client.post(
        "/api/v1/operator/stations/NO-SUCH-STATION/password-rotation", headers=operator
    )
    assert missing.status_code == 404


@pytest.mark.parametrize("version", ["1.6", "2.0.1"])
async def test_voltbooks_simulated_charger_reconnects_with_the_rotated_password(
    client: httpx.AsyncClient,
    operator: Headers,
    server_url: str,
    engine: AsyncEngine,
    version: str,
) -> None:
    station_id = f"ROTSIM-{version}-{secrets.token_hex(3)}"
    spec = await simulated_station_spec(client, operator, server_url, engine, station_id, "C-1")
    options = SimOptions(
        version=version, session_rate=0, seed=5, reconnect_base=0.1, reconnect_cap=0.5
    )
    station = SimulatedStation(server_url, spec, options)
    running = asyncio.create_task(station.run())
    try:
        await eventually(lambda: station.booted, timeout=20)
        rotated = await client.post(
            f"/api/v1/operator/stations/{station_id}/password-rotation", headers=operator
        )
        assert rotated.json()["status"] == "Accepted", rotated.text

        async def promoted() -> bool:
            async with engine.connect() as connection:
                pending = await connection.scalar(
                    sa.select(stations.c.pending_password_hash).where(stations.c.id == station_id)
                )
            return pending is None

        # The charger reconnects with the new password, which drops the old one.
        await eventually(promoted, timeout=20, every_s=0.1)
        await eventually(lambda: station.booted, timeout=20)
        assert await refused(server_url, station_id, spec.password, f"ocpp{version}") == 401
    finally:
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
