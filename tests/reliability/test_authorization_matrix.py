"""Object-level authorization, generated from the route table (the OpenAPI document), so that
every new route is covered without a line here: driver B against every authenticated route
with driver A's objects in its path, a driver against every operator route, and a deleted
account against every authenticated route. Promise: 0 leaks, 0 answers 5xx."""

from __future__ import annotations

import re
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_reservations import Site, book, new_drivers, site

__all__ = ["site"]
Headers = dict[str, str]
_PARAM = re.compile(r"\{([a-z_]+)\}")
# Bodies that a route would accept, so that the refusal tested is the authorization's, not
# the body's (an unknown route gets {}: a 422 is then no leak either).
_BODIES: dict[str, dict[str, Any]] = {
    "/api/v1/vehicles/{vehicle_id}": {"name": "Mine now"},
    "/api/v1/vehicles/{vehicle_id}/state": {"soc_percent": 50},
}


async def operations(client: httpx.AsyncClient) -> list[tuple[str, str, bool]]:
    """(method, path template, needs a sign-in) of every documented operation."""
    doc = (await client.get("/openapi.json")).json()
    return [
        (method.upper(), path, bool(op.get("security")))
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
    ]


def filled(path: str, objects: dict[str, str]) -> str:
    return _PARAM.sub(lambda m: objects.get(m.group(1), "1"), path)


async def call(client: httpx.AsyncClient, method: str, path: str, who: Headers) -> httpx.Response:
    body = _BODIES.get(path, {})
    return await client.request(method, path, headers=who, json=body if method != "GET" else None)


async def test_no_driver_reaches_another_drivers_objects_or_operator_routes(
    client: httpx.AsyncClient, engine: AsyncEngine, site: Site
) -> None:
    owner, other = await new_drivers(engine, 2)
    vehicle = await client.post(
        "/api/v1/vehicles",
        json={"name": "Van", "battery_kwh": 60, "standards": ["CCS1"]},
        headers=owner,
    )
    booking = await book(client, owner, {"station_id": site.id, "connector_id": 1, "minutes": 30})
    assert vehicle.status_code == 201
    assert booking.status_code == 201
    objects = {
        "vehicle_id": vehicle.json()["id"],
        "reservation_id": str(booking.json()["id"]),
        "station_id": site.id,
        "delivery_id": "1",
        "offer_id": "1",
        "account_id": "x",
    }
    leaks: list[str] = []
    for method, template, signed in await operations(client):
        if not signed or (
            not _PARAM.search(template) and not template.startswith("/api/v1/operator")
        ):
            continue
        path = filled(template, objects)
        answer = await call(client, method, path, other)
        if answer.status_code >= 500 or answer.status_code < 400:
            leaks.append(f"{method} {template}: {answer.status_code}")
    assert leaks == []
    # The owner's objects are untouched by all that.
    mine = await client.get(f"/api/v1/vehicles/{objects['vehicle_id']}", headers=owner)
    assert mine.json()["name"] == "Van"
    kept = await client.get(f"/api/v1/reservations/{objects['reservation_id']}", headers=owner)
    assert kept.json()["status"] in ("scheduled", "held")


async def test_a_deleted_account_is_refused_everywhere_without_a_5xx(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    [gone] = await new_drivers(engine, 1)
    assert (await client.delete("/api/v1/me", headers=gone)).status_code == 204
    wrong: list[str] = []
    # As a browser on this server would send it: the browser routes check the Origin first.
    same_origin = {**gone, "Origin": str(client.base_url).rstrip("/")}
    for method, template, signed in await operations(client):
        if not signed:
            continue
        answer = await call(client, method, filled(template, {}), same_origin)
        if answer.status_code != 401:
            wrong.append(f"{method} {template}: {answer.status_code}")
    assert wrong == []
