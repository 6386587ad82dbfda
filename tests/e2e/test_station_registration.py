"""Stations are registered by the command line or the operator API, or register themselves
when the operator switched auto-registration on."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest
import websockets
from typer.testing import CliRunner

from tests.e2e.conftest import running_server, server_settings
from tests.e2e.ocpp_client import connect
from voltbook.cli import app as cli

Headers = dict[str, str]


async def test_a_station_added_on_the_command_line_connects_with_its_password(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path, server_url: str
) -> None:
    result = await asyncio.to_thread(
        CliRunner().invoke,
        cli,
        ["station", "add", "CLI-STATION-1", "--password", "a-long-station-secret"],
        # The server's settings, as on a real host: station hashes are keyed (ADR 0015).
        env={
            "VOLTBOOK_DATABASE_URL": database_url,
            "VOLTBOOK_DATA_DIR": str(tmp_path),
            "VOLTBOOK_JWT_SECRET": server_settings(
                database_url, tmp_path
            ).jwt_secret.get_secret_value(),
        },
    )
    assert result.exit_code == 0, result.output
    async with connect(server_url, "CLI-STATION-1", "a-long-station-secret") as station:
        assert (await station.call("Heartbeat", {}))[0] == 3


async def test_new_credentials_replace_the_old_password(
    client: httpx.AsyncClient, operator: Headers, server_url: str
) -> None:
    made = await client.post("/api/v1/operator/stations", json={"id": "ROTATE-1"}, headers=operator)
    old = made.json()["password"]
    assert 16 <= len(old) <= 40
    fresh = await client.post("/api/v1/operator/stations/ROTATE-1/credentials", headers=operator)
    assert fresh.status_code == 201
    new = fresh.json()["password"]
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with connect(server_url, "ROTATE-1", old):
            pass
    assert refused.value.response.status_code == 401
    async with connect(server_url, "ROTATE-1", new) as station:
        assert (await station.call("Heartbeat", {}))[0] == 3


async def test_duplicate_and_invalid_station_ids_are_refused(
    client: httpx.AsyncClient, operator: Headers
) -> None:
    body = {"id": "DUP-1", "password": "0123456789abcdef"}
    assert (
        await client.post("/api/v1/operator/stations", json=body, headers=operator)
    ).status_code == 201
    again = await client.post("/api/v1/operator/stations", json=body, headers=operator)
    assert again.status_code == 409
    bad = await client.post("/api/v1/operator/stations", json={"id": "has space"}, headers=operator)
    assert bad.status_code == 422
    short = await client.post(
        "/api/v1/operator/stations", json={"id": "OK-1", "password": "short"}, headers=operator
    )
    assert short.status_code == 422


async def test_station_pages_follow_the_cursor(
    client: httpx.AsyncClient, operator: Headers
) -> None:
    for number in range(5):
        await client.post(
            "/api/v1/operator/stations", json={"id": f"PAGE-{number}"}, headers=operator
        )
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (
            await client.get("/api/v1/operator/stations", params=params, headers=operator)
        ).json()
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [s for s in seen if s.startswith("PAGE-")] == [f"PAGE-{n}" for n in range(5)]
    assert len(seen) == len(set(seen))
    broken = await client.get(
        "/api/v1/operator/stations", params={"cursor": "%%%"}, headers=operator
    )
    assert broken.status_code == 422


async def test_auto_registration_admits_an_unknown_station_and_keeps_its_password(
    database_url: str, tmp_path: Path, engine: object
) -> None:
    settings = server_settings(database_url, tmp_path, ocpp_auto_register=True)
    async with running_server(settings) as url:
        async with connect(url, "NEW-CHARGER-9", "first-password-given") as station:
            boot = await station.call(
                "BootNotification", {"chargePointVendor": "X", "chargePointModel": "Y"}
            )
            assert boot[2]["status"] == "Accepted"
        with pytest.raises(websockets.InvalidStatus) as refused:
            async with connect(url, "NEW-CHARGER-9", "another-password-now"):
                pass
        assert refused.value.response.status_code == 401


async def test_stations_near_a_point_come_nearest_first(
    client: httpx.AsyncClient, operator: Headers, engine: object
) -> None:
    from tests.e2e.test_find_stations import import_bundled

    await import_bundled(engine)  # type: ignore[arg-type]
    page = await client.get(
        "/api/v1/operator/stations",
        params={"near_lat": 42.3555, "near_lon": -71.0605, "limit": 5},
        headers=operator,
    )
    items = page.json()["items"]
    assert len(items) == 5
    assert page.json()["next_cursor"] is None
    nearest_site = (
        await client.get(
            "/api/v1/stations/nearby", params={"lat": 42.3555, "lon": -71.0605, "limit": 1}
        )
    ).json()["items"][0]
    assert items[0]["id"] == nearest_site["stations"][0]["id"]
