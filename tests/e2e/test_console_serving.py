"""The operator console is served at /console with strict headers, and the network map's
answer shows every station where it stands with its connectors' live status."""

from __future__ import annotations

import re
import secrets
import shutil
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.ocpp_client import connect
from tests.e2e.test_ocpp_gateway import BOOT_16, NOW, eventually
from voltbook.api.console_web import worker_script
from voltbook.api.web import WEB_ROOT, WebOptions
from voltbook.storage.tables import sites

Headers = dict[str, str]


async def a_site(engine: AsyncEngine, name: str, lat: float, lon: float) -> int:
    now = datetime.now(UTC)
    async with engine.begin() as connection:
        made = await connection.execute(
            sites.insert()
            .values(
                source="test", source_id=secrets.token_hex(4), name=name, city="Boston",
                country="US", lat=lat, lon=lon, created_at=now, updated_at=now,
            )
            .returning(sites.c.id)
        )  # fmt: skip
        return int(made.scalar_one())


async def test_the_network_shows_each_station_at_its_site_with_live_connector_status(
    client: httpx.AsyncClient, operator: Headers, server_url: str, engine: AsyncEngine
) -> None:
    site_id = await a_site(engine, "Harbour Garage", 42.3601, -71.0589)
    placed = f"NET-{secrets.token_hex(3)}"
    made = await client.post(
        "/api/v1/operator/stations", json={"id": placed, "site_id": site_id}, headers=operator
    )
    loose = f"NET-{secrets.token_hex(3)}"
    assert (
        await client.post("/api/v1/operator/stations", json={"id": loose}, headers=operator)
    ).status_code == 201

    async with connect(server_url, placed, made.json()["password"]) as station:
        await station.call("BootNotification", BOOT_16)
        for connector, status in ((1, "Available"), (2, "Faulted")):
            report = {"connectorId": connector, "errorCode": "NoError", "status": status,
                      "timestamp": NOW}  # fmt: skip
            await station.call("StatusNotification", report)

        async def both_reported() -> bool:
            answer = await client.get("/api/v1/operator/network", headers=operator)
            found = {item["id"]: item for item in answer.json()["items"]}
            return found[placed]["connectors"] == ["Available", "Faulted"]

        await eventually(both_reported)
        answer = await client.get("/api/v1/operator/network", headers=operator)
    found = {item["id"]: item for item in answer.json()["items"]}
    assert found[placed] == {
        "id": placed, "site_id": site_id, "name": "Harbour Garage", "city": "Boston",
        "lat": 42.3601, "lon": -71.0589, "online": True, "connectors": ["Available", "Faulted"],
    }  # fmt: skip
    assert found[loose] == {
        "id": loose, "site_id": None, "name": None, "city": None, "lat": None, "lon": None,
        "online": False, "connectors": [],
    }  # fmt: skip


async def test_a_driver_gets_nothing_from_the_network_map(client: httpx.AsyncClient) -> None:
    email = f"driver-{secrets.token_hex(4)}@example.org"
    await client.post("/api/v1/auth/register", json={"email": email, "password": "a driver pw 123"})
    token = await client.post(
        "/api/v1/auth/token", data={"username": email, "password": "a driver pw 123"}
    )
    headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
    refused = await client.get("/api/v1/operator/network", headers=headers)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.get("/api/v1/operator/network")).status_code == 401


async def test_the_console_shell_is_revalidated_and_locked_down_by_its_policy(
    client: httpx.AsyncClient,
) -> None:
    shell = await client.get("/console/")
    assert shell.status_code == 200
    assert shell.headers["content-type"].startswith("text/html")
    assert shell.headers["cache-control"] == "no-cache"
    policy = shell.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert shell.headers["x-content-type-options"] == "nosniff"
    assert '<script type="module" src="main.js"></script>' in shell.text
    assert "onclick" not in shell.text
    assert "style=" not in shell.text

    module = await client.get("/console/api.js")
    assert module.headers["content-type"].startswith("text/javascript")
    assert module.headers["cache-control"] == "no-cache"
    revalidated = await client.get(
        "/console/api.js", headers={"If-None-Match": module.headers["etag"]}
    )
    assert revalidated.status_code == 304

    vendored = await client.get("/vendor/leaflet-1.9.4/leaflet-src.esm.js")
    assert vendored.status_code == 200
    assert vendored.headers["cache-control"] == "public, max-age=31536000, immutable"

    assert (await client.get("/console/../pyproject.toml")).status_code == 404
    assert (await client.get("/console/%2e%2e/app/index.html")).status_code == 404
    assert (await client.get("/console/no-such-screen.js")).status_code == 404


async def test_the_console_learns_the_tile_server_from_the_settings(
    client: httpx.AsyncClient,
) -> None:
    config = await client.get("/console/config.json")
    assert config.json() == {"tile_url": "", "tile_attribution": ""}


async def test_the_console_has_its_own_service_worker_keeping_every_file_it_loads(
    client: httpx.AsyncClient,
) -> None:
    worker = await client.get("/console/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["cache-control"] == "no-cache"
    # Scoped to /console, so /console without its slash is the console's too.
    assert worker.headers["service-worker-allowed"] == "/console"
    assert "script-src 'self';" in worker.headers["content-security-policy"]
    assert "{{" not in worker.text
    assert f'const BUILD = "{WebOptions().digest("console")}";' in worker.text
    listed = re.search(r"const FILES = \[(.*?)\];", worker.text, re.DOTALL)
    assert listed is not None
    kept = re.findall(r'"([^"]+)"', listed[1])
    for module in ("main.js", "api.js", "overview.js", "station.js", "console.css"):
        assert f"/console/{module}" in kept
    assert "/console/" in kept  # the shell
    assert "/console/sw.js" not in kept
    shell = (await client.get("/console/")).text
    for sheet in re.findall(r'href="(/vendor/[^"]+)"', shell):
        assert sheet in kept
    for module in (WEB_ROOT / "console").glob("*.js"):
        for imported in re.findall(r'from "(/vendor/[^"]+)"', module.read_text(encoding="utf-8")):
            assert imported in kept, (module.name, imported)
    for path in kept:
        assert (await client.get(path)).status_code == 200, path


def test_a_change_to_any_console_file_names_a_new_cache(tmp_path: Path) -> None:
    shutil.copytree(WEB_ROOT / "console", tmp_path / "console")
    before = worker_script(WebOptions(root=tmp_path))
    with (tmp_path / "console" / "overview.js").open("a", encoding="utf-8") as module:
        module.write("\n// a new release\n")
    after = worker_script(WebOptions(root=tmp_path))
    build = re.compile(r'const BUILD = "([0-9a-f]{12})";')
    old, new = build.search(before), build.search(after)
    assert old is not None
    assert new is not None
    assert old[1] != new[1]
    assert "`voltbook-console-${BUILD}`" in after
