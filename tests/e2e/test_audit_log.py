"""The audit log (docs/adr/0026): every operator write route leaves an entry (the list of
routes is read from the route table, so a new one is covered without a line here), with who,
what, when, the target and the station's answer, secrets taken out; the log is read with
filters and a cursor."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Iterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.routing import BaseRoute

from tests.e2e.ocpp_client import connect
from tests.e2e.test_reservations import new_drivers
from voltbook.api.app import create_app
from voltbook.api.audit import WRITES
from voltbook.api.deps import staff_principal
from voltbook.services import Services

Headers = dict[str, str]
_PARAM = re.compile(r"\{([a-z_]+)\}")


def _needs_staff(dependant: Dependant) -> bool:
    return any(d.call is staff_principal or _needs_staff(d) for d in dependant.dependencies)


def operator_write_routes() -> list[tuple[str, str]]:
    """(method, path template) of every write route only staff may use, from the route table."""

    @asynccontextmanager
    async def never_opened() -> AsyncIterator[Services]:
        raise AssertionError("the route table needs no services")
        yield  # pragma: no cover

    return sorted(
        (method, route.path)
        for route in _api_routes(create_app(never_opened).routes)
        if _needs_staff(route.dependant)
        for method in route.methods & WRITES
    )


def _api_routes(routes: Sequence[BaseRoute]) -> Iterator[APIRoute]:
    """Every API route, also those of included routers (FastAPI keeps them apart)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from _api_routes(included.routes)


async def me(client: httpx.AsyncClient, who: Headers) -> str:
    return str((await client.get("/api/v1/me", headers=who)).json()["id"])


async def entries(client: httpx.AsyncClient, who: Headers, **params: Any) -> list[dict[str, Any]]:
    answer = await client.get("/api/v1/operator/audit", params=params, headers=who)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def test_every_operator_write_route_leaves_an_audit_entry(
    client: httpx.AsyncClient, operator: Headers
) -> None:
    routes = operator_write_routes()
    # The list is the route table's: the known ones are in it, and it is not small.
    assert ("POST", "/api/v1/operator/stations/{station_id}/commands/reset") in routes
    assert ("POST", "/api/v1/operator/stations/{station_id}/password-rotation") in routes
    assert len(routes) > 20
    station_id = f"AUDIT-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    assert made.status_code == 201
    actor = await me(client, operator)
    started = (await entries(client, operator, actor_id=actor, limit=1))[0]["id"]
    answers: dict[tuple[str, str], int] = {}
    for method, template in routes:
        path = _PARAM.sub(lambda m: station_id if m.group(1) == "station_id" else "1", template)
        answer = await client.request(method, path, json={}, headers=operator)
        assert answer.status_code < 500, f"{method} {template}: {answer.status_code}"
        answers[(method, template)] = answer.status_code
    kept: dict[tuple[str, str], int] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"actor_id": actor, "limit": 50}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/v1/operator/audit", params=params, headers=operator)).json()
        for entry in page["items"]:
            if entry["id"] > started:
                method, _, template = entry["action"].partition(" ")
                kept[(method, template)] = entry["status_code"]
        cursor = page["next_cursor"]
        if cursor is None or page["items"][-1]["id"] <= started:
            break
    missing = sorted(set(answers) - set(kept))
    assert missing == []
    assert kept == answers  # each entry holds the status its action was answered with


async def test_an_entry_holds_who_what_when_the_target_and_the_stations_answer(
    client: httpx.AsyncClient, operator: Headers, server_url: str, engine: AsyncEngine
) -> None:
    actor = await me(client, operator)
    station_id = f"AUDITED-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    password = made.json()["password"]
    before = datetime.now(UTC) - timedelta(seconds=1)
    async with connect(server_url, station_id, password) as station:
        station.answers["Reset"] = {"status": "Rejected"}
        station.answers["ChangeConfiguration"] = {"status": "Accepted"}
        reset = await client.post(
            f"/api/v1/operator/stations/{station_id}/commands/reset",
            json={"hard": False},
            headers=operator,
        )
        assert reset.json()["status"] == "Rejected"
        rotated = await client.post(
            f"/api/v1/operator/stations/{station_id}/password-rotation", headers=operator
        )
        new_password = rotated.json()["password"]
        assert new_password
    [rotation, command, added] = await entries(client, operator, station_id=station_id)
    assert added["action"] == "POST /api/v1/operator/stations"
    assert added["status_code"] == 201
    assert password not in (added["answer"] or "")
    assert '"password":"***"' in added["answer"]

    assert command["actor_id"] == actor
    assert command["actor_email"].startswith("operator-")
    assert command["actor_role"] == "operator"
    assert command["action"] == "POST /api/v1/operator/stations/{station_id}/commands/reset"
    assert command["target"] == f"station_id={station_id}"
    assert (command["status_code"], command["outcome"]) == (200, "Rejected")
    assert '"hard":false' in command["request"]
    assert '"response":{"status":"Rejected"}' in command["answer"]
    assert before <= datetime.fromisoformat(command["at"]) <= datetime.now(UTC)

    assert rotation["outcome"] == "Accepted"
    assert new_password not in rotation["answer"]

    # Filters: by actor, by time; the log is newest first and pages by cursor.
    [other] = await new_drivers(engine, 1)
    assert await entries(client, operator, actor_id="someone-else") == []
    later = (datetime.now(UTC) + timedelta(minutes=1)).isoformat()
    assert await entries(client, operator, station_id=station_id, since=later) == []
    first = await client.get(
        "/api/v1/operator/audit",
        params={"station_id": station_id, "limit": 2},
        headers=operator,
    )
    assert [e["id"] for e in first.json()["items"]] == [rotation["id"], command["id"]]
    rest = await client.get(
        "/api/v1/operator/audit",
        params={"station_id": station_id, "limit": 2, "cursor": first.json()["next_cursor"]},
        headers=operator,
    )
    assert [e["id"] for e in rest.json()["items"]] == [added["id"]]
    # A driver reads nothing, and a driver's refused attempt is no operator action.
    assert (await client.get("/api/v1/operator/audit", headers=other)).status_code == 403
    refused = await client.post(
        f"/api/v1/operator/stations/{station_id}/commands/reset", json={}, headers=other
    )
    assert refused.status_code == 403
    assert len(await entries(client, operator, station_id=station_id)) == 3
