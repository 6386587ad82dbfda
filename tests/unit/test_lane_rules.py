"""The fast lanes and their routes share one source for each rule, and a route cannot gain a
dependency its lane does not honour without this failing."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.dependencies.models import Dependant
from starlette.routing import BaseRoute

from voltbook.api import booking_lane, fast_lane
from voltbook.api.request_rules import Honoured, bearer_token, idempotency_key_ok
from voltbook.api.routes.reservations import book_route
from voltbook.api.routes.stations import nearby_route


def needs(dependant: Dependant) -> Honoured:
    """Everything a route's dependencies ask of a request, gathered over the whole tree."""
    calls: set[Any] = set()
    headers: set[str] = set()
    query: list[type] = []
    body: list[type] = []

    def walk(node: Dependant) -> None:
        assert not node.path_params
        assert not node.cookie_params
        headers.update(p.alias for p in node.header_params)
        query.extend(p.field_info.annotation for p in node.query_params)
        body.extend(p.field_info.annotation for p in node.body_params)
        for sub in node.dependencies:
            calls.add(sub.call)
            walk(sub)

    walk(dependant)
    return Honoured(frozenset(calls), frozenset(headers), tuple(query), tuple(body))


@pytest.mark.parametrize(
    ("route", "honoured"),
    [(book_route, booking_lane.HONOURED), (nearby_route, fast_lane.HONOURED)],
    ids=["booking", "nearby"],
)
def test_a_route_needs_nothing_its_lane_does_not_honour(
    route: BaseRoute, honoured: Honoured
) -> None:
    dependant = getattr(route, "dependant", None)
    assert isinstance(dependant, Dependant)
    assert needs(dependant) == honoured


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def", "abc.def"),
        ("bearer abc", "abc"),
        ("Basic abc", None),
        ("Bearer", None),
        ("Bearer ", None),
        ("", None),
        (None, None),
    ],
)
def test_one_bearer_parser(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


@pytest.mark.parametrize(
    ("key", "ok"),
    [("k-1", True), ("x" * 255, True), ("x" * 256, False), ("", False), ("a b", False),
     ("é", False), (None, False)],
)  # fmt: skip
def test_one_idempotency_key_rule(key: str | None, ok: bool) -> None:
    assert idempotency_key_ok(key) is ok
