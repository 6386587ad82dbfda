"""Which requests the fast lane answers itself, and which it passes on to the routes."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from starlette.types import Message, Receive, Scope, Send

from tests.unit.builders import site
from voltbook.api.fast_lane import FastLane, plain_query
from voltbook.api.routes.reservations import book_route
from voltbook.api.routes.stations import nearby_route
from voltbook.stations.model import NearbyQuery, NearbySite
from voltbook.stations.standards import Standard


class Stations:
    def __init__(self) -> None:
        self.asked: list[NearbyQuery] = []

    async def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        self.asked.append(query)
        return [NearbySite(site=site(1), distance_m=12.345)]


class Passed:
    """The app behind the lane: records what reached it."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)


async def call(query: str, *, method: str = "GET", path: str = "/api/v1/stations/nearby") -> Any:
    stations, passed, sent = Stations(), Passed(), list[Message]()
    app = SimpleNamespace(
        state=SimpleNamespace(services=SimpleNamespace(stations=stations, forecasts=None))
    )
    scope = {
        "type": "http",
        "method": method,
        "path": path,
        "query_string": query.encode(),
        "app": app,
    }

    async def receive() -> Message:
        return {"type": "http.request", "body": b""}

    async def send(message: Message) -> None:
        sent.append(message)

    await FastLane(passed, nearby=nearby_route, booking=book_route)(scope, receive, send)
    return SimpleNamespace(stations=stations, passed=passed.scopes, sent=sent, scope=scope)


async def test_a_plain_search_is_answered_by_the_lane_with_the_routes_label() -> None:
    done = await call("lat=42.36&lon=-71.06&radius_m=2000&limit=5&connector=ccs1&available=1")

    assert done.passed == []
    [query] = done.stations.asked
    assert (query.lat, query.lon, query.radius_m, query.limit) == (42.36, -71.06, 2000, 5)
    assert query.standards == {Standard.IEC_62196_T1_COMBO}
    assert query.available_only
    start, body = done.sent
    assert start["status"] == 200
    assert dict(start["headers"])[b"content-type"] == b"application/json"
    assert int(dict(start["headers"])[b"content-length"]) == len(body["body"])
    assert json.loads(body["body"])["items"][0]["distance_m"] == 12.35
    assert done.scope["route"] is nearby_route  # the metrics label it as the route's own


@pytest.mark.parametrize(
    "query",
    [
        "lat=1&lon=2&connector=CCS1&connector=J1772",  # a repeated key is a list to the route
        "lat=1&lon=2&lat=3",
        "lat=1&lon=2&_=17",  # not declared
        "lat=91&lon=2",  # refused by the model
        "lat=1&lon=2&available=",
        "lat=1&lon=2&connector=FOO",  # refused by the domain
        "lon=2",
    ],
)
async def test_anything_but_a_plain_valid_search_goes_on_to_the_route(query: str) -> None:
    done = await call(query)

    assert len(done.passed) == 1
    assert done.sent == []
    assert done.stations.asked == []


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/v1/stations/nearby"), ("GET", "/api/v1/sites/1")]
)
async def test_other_requests_go_on_untouched(method: str, path: str) -> None:
    done = await call("lat=1&lon=2", method=method, path=path)

    assert len(done.passed) == 1
    assert done.sent == []


def test_a_plain_query_has_one_value_per_key_and_connector_as_a_list() -> None:
    assert plain_query(b"lat=1&lon=2&connector=CCS1") == {
        "lat": "1",
        "lon": "2",
        "connector": ["CCS1"],
    }
    assert plain_query(b"lat=1&lat=2") is None
    assert plain_query(b"lat=1&where=2") is None
