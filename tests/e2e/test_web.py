"""The browser ends as served: the app shell under a strict CSP, cache headers, the service
worker's file list, vendored files, the API reference without a CDN, the AsyncAPI document,
places typed by drivers, and CORS only for the origins allowed."""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx

from tests.browser.conftest import boston_rows
from tests.e2e.conftest import server_settings
from voltbook.api.app import create_app
from voltbook.api.web import WebOptions
from voltbook.bootstrap import open_services
from voltbook.services import Services
from voltbook.stations.importing import RowProblem, read_site_rows


async def test_the_shell_is_served_fresh_under_a_strict_policy(client: httpx.AsyncClient) -> None:
    shell = await client.get("/")
    assert shell.status_code == 200
    assert shell.headers["content-type"].startswith("text/html")
    assert shell.headers["cache-control"] == "no-cache"
    policy = shell.headers["content-security-policy"]
    assert "default-src 'self'" in policy
    assert "script-src 'self';" in policy
    assert "unsafe-inline" not in policy
    assert "<script>" not in shell.text  # no inline script, no inline handler
    assert not re.search(r"\son[a-z]+=", shell.text)
    assert not re.search(r"https?://", shell.text.split("<body>", 1)[1])  # nothing from afar
    build = re.search(r"/assets/([0-9a-f]{12})/js/main\.js", shell.text)
    assert build is not None
    main = await client.get(f"/assets/{build[1]}/js/main.js")
    assert main.status_code == 200
    assert main.headers["content-type"].startswith("text/javascript")
    assert main.headers["cache-control"] == "public, max-age=31536000, immutable"
    old = await client.get("/assets/000000000000/js/main.js")
    assert old.headers["cache-control"] == "no-cache"  # an older shell's path: not kept


async def test_the_service_worker_lists_every_file_of_the_app(client: httpx.AsyncClient) -> None:
    worker = await client.get("/sw.js")
    assert worker.headers["cache-control"] == "no-cache"
    assert worker.headers["service-worker-allowed"] == "/"
    build = WebOptions().build
    for name in ("js/api.js", "js/screens/find.js", "app.css", "icons/icon-192.png"):
        assert f'"/assets/{build}/{name}"' in worker.text
        assert (await client.get(f"/assets/{build}/{name}")).status_code == 200
    manifest = (await client.get("/manifest.webmanifest")).json()
    assert manifest["start_url"] == "/#/find"
    for icon in manifest["icons"]:
        assert (await client.get(icon["src"])).status_code == 200


async def test_vendored_files_are_kept_and_nothing_outside_is_served(
    client: httpx.AsyncClient,
) -> None:
    leaflet = await client.get("/vendor/leaflet-1.9.4/leaflet.js")
    assert leaflet.status_code == 200
    assert leaflet.headers["cache-control"].endswith("immutable")
    for path in ("/vendor/../api/web.py", "/vendor/%2e%2e/api/web.py", "/assets/x/../../config.py"):
        assert (await client.get(path)).status_code == 404


def test_every_vendored_folder_is_listed_with_its_origin_and_licence() -> None:
    vendor = WebOptions().root / "vendor"
    listed = (vendor / "VENDOR.md").read_text(encoding="utf-8")
    folders = [p for p in vendor.iterdir() if p.is_dir()]
    assert folders
    for folder in folders:
        assert f"`{folder.name}/`" in listed
        assert (folder / "LICENSE").is_file()


async def test_the_api_reference_and_the_live_channel_are_described_without_a_cdn(
    client: httpx.AsyncClient,
) -> None:
    docs = await client.get("/docs")
    assert docs.status_code == 200
    assert not re.findall(r'(?:src|href)="https?://', docs.text)
    assert "/vendor/swagger-ui-dist-" in docs.text
    assert (await client.get("/redoc")).status_code == 404
    asyncapi = (await client.get("/asyncapi.json")).json()
    assert asyncapi["asyncapi"].startswith("3.")
    messages = asyncapi["channels"]["live"]["messages"]
    for kind in ("auth", "ack", "location", "vehicle", "query.location", "offer", "welcome"):
        assert messages[kind]["payload"]["properties"]["type"]["const"] == kind
    openapi = (await client.get("/openapi.json")).json()
    started = openapi["paths"]["/api/v1/sessions"]["post"]["responses"]["201"]["headers"]
    assert {"Location", "Idempotent-Replayed"} <= set(started)


async def test_a_typed_place_is_matched_against_the_imported_sites(
    client: httpx.AsyncClient, database_url: str, tmp_path: Path
) -> None:
    async with open_services(server_settings(database_url, tmp_path)) as services:
        rows = read_site_rows(io.StringIO(boston_rows(20)), "afdc")
        await services.stations.import_sites(
            (r for r in rows if not isinstance(r, RowProblem)), source="afdc"
        )
    city = (await client.get("/api/v1/places", params={"q": "bost"})).json()["items"]
    assert city[0]["label"].startswith("Boston")
    assert 42.2 < city[0]["lat"] < 42.5
    postal = (await client.get("/api/v1/places", params={"q": "021"})).json()["items"]
    assert postal
    assert all(p["kind"] == "postal_code" and p["label"].startswith("021") for p in postal)
    assert (await client.get("/api/v1/places", params={"q": "%_"})).json()["items"] == []
    assert (await client.get("/api/v1/places", params={"q": "x"})).status_code == 422


@asynccontextmanager
async def _unopened() -> AsyncIterator[Services]:
    raise AssertionError("not needed for a preflight")
    yield  # pragma: no cover


async def test_cross_origin_calls_are_allowed_only_for_the_listed_origins() -> None:
    allowed = "https://app.example.org"
    app = create_app(_unopened, cors_origins=[allowed])
    preflight = {
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "idempotency-key",
    }
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
        ok = await http.options("/api/v1/sessions", headers=preflight | {"Origin": allowed})
        assert ok.headers["access-control-allow-origin"] == allowed
        other = await http.options(
            "/api/v1/sessions", headers=preflight | {"Origin": "https://evil.example"}
        )
        assert "access-control-allow-origin" not in other.headers
    closed = httpx.ASGITransport(app=create_app(_unopened))
    async with httpx.AsyncClient(transport=closed, base_url="http://test") as http:
        answer = await http.options("/api/v1/sessions", headers=preflight | {"Origin": allowed})
        assert "access-control-allow-origin" not in answer.headers
