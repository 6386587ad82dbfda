"""Bad input classes over the wire (issue 14, items 1-3 and 7): every one is a 4xx problem,
a live-channel `error` or a CALLERROR, never a 500 or a dropped connection; NUL is refused
alike on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import secrets

import httpx
import pytest
import websockets
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.test_reservations import new_drivers

PROBLEM = "application/problem+json"
Headers = dict[str, str]
DEEP = "[" * 5_000 + "]" * 5_000


def problem(answer: httpx.Response, status: int) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == PROBLEM


async def test_deep_json_is_refused_by_the_booking_fast_lane_and_every_route(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    body = '{"station_id": "CP-1", "minutes": 30, "x": ' + DEEP + "}"
    json_headers = driver | {"Content-Type": "application/json"}
    booking = await client.post(
        "/api/v1/reservations", content=body, headers=json_headers | {"Idempotency-Key": "k1"}
    )
    problem(booking, 422)
    problem(await client.post("/api/v1/vehicles", content=DEEP, headers=json_headers), 422)
    problem(await client.patch("/api/v1/me", content=DEEP, headers=json_headers), 422)


async def test_a_body_over_the_limit_is_413_even_in_one_piece(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    huge = json.dumps({"name": "x" * 20_000_000})
    answer = await client.post(
        "/api/v1/vehicles", content=huge, headers=driver | {"Content-Type": "application/json"}
    )
    problem(answer, 413)
    booking = json.dumps({"station_id": "CP-1", "minutes": 30, "pad": "x" * 20_000})
    answer = await client.post(
        "/api/v1/reservations",
        content=booking,
        headers=driver | {"Content-Type": "application/json", "Idempotency-Key": "k2"},
    )
    problem(answer, 413)


async def test_a_command_with_a_misspelt_field_is_refused_not_run(
    client: httpx.AsyncClient, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    answer = await client.post(
        "/api/v1/vehicles",
        json={"name": "Van", "battery_kwh": 60, "standards": ["CCS1"], "max_dc_kW": 50},
        headers=driver,
    )
    problem(answer, 422)
    listed = await client.get("/api/v1/vehicles", headers=driver)
    assert listed.json()["items"] == []


@pytest.mark.parametrize("name", ["Van\u0000", "Van\ud800"])
async def test_nul_and_lone_surrogates_are_refused_the_same_on_both_databases(
    client: httpx.AsyncClient, engine: AsyncEngine, name: str
) -> None:
    [driver] = await new_drivers(engine, 1)
    body = '{"name": ' + json.dumps(name) + ', "battery_kwh": 60, "standards": ["CCS1"]}'
    answer = await client.post(
        "/api/v1/vehicles", content=body, headers=driver | {"Content-Type": "application/json"}
    )
    problem(answer, 422)


@pytest.mark.parametrize(
    "query",
    [
        "from=0001-01-01T00:00:00%2B01:00",
        "from=9999-12-31T23:00:00-05:00",
        "to=9999-12-31T23:59:59%2B00:00",
        "from=9999-12-31T23:59:59",
    ],
)
async def test_calendar_edges_in_a_query_are_refused(client: httpx.AsyncClient, query: str) -> None:
    answer = await client.get(f"/api/v1/stations/CP-1/availability?{query}")
    assert answer.status_code in (404, 422), answer.text
    assert answer.headers["content-type"] == PROBLEM


@pytest.mark.parametrize("digits", ["²", "١٢", "9" * 30, "-1"])
async def test_cursors_of_odd_digits_or_beyond_storage_are_refused(
    client: httpx.AsyncClient, engine: AsyncEngine, digits: str
) -> None:
    import base64

    [driver] = await new_drivers(engine, 1)
    cursor = base64.urlsafe_b64encode(digits.encode()).decode().rstrip("=")
    answer = await client.get(f"/api/v1/reservations?cursor={cursor}", headers=driver)
    problem(answer, 422)


async def test_the_live_channel_answers_bad_numbers_and_deep_json_and_stays_open(
    server_url: str, engine: AsyncEngine
) -> None:
    [driver] = await new_drivers(engine, 1)
    url = server_url.replace("http://", "ws://") + "/api/v1/live?since=%C2%B2"
    async with websockets.connect(url, additional_headers=driver) as socket:
        assert json.loads(await socket.recv())["type"] == "welcome"
        for bad in [
            '{"type": "ping", "x": ' + "[" * 3000 + "]" * 3000 + "}",
            json.dumps({"type": "ack", "id": 1, "seq": 2**70}),
            json.dumps({"type": "resume", "id": 2, "since": "²"}),
            json.dumps(
                {"type": "location", "id": 3, "lat": 1, "lon": 2, "at": "0001-01-01T00:00+05:00"}
            ),
            '{"type": "ping", "id": "\\ud800"}',
        ]:
            await socket.send(bad)
            answer = json.loads(await socket.recv())
            assert answer["type"] == "error", (bad[:60], answer)
        await socket.send(json.dumps({"type": "ping", "id": secrets.token_hex(2)}))
        assert json.loads(await socket.recv())["type"] == "pong"
