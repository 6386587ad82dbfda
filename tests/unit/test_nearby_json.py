"""The nearby answer is serialised without its models, and must say what they say."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

import pydantic_core

from tests.unit.builders import connector, site
from voltbook.api.schemas import NearbyOut, NearbySiteOut, nearby_json
from voltbook.stations.model import ConnectorStatus, PowerType, Site, Station
from voltbook.stations.standards import Standard


def test_the_direct_json_equals_the_documented_model_for_every_kind_of_field() -> None:
    seen = datetime(2026, 11, 26, 12, 30, 15, 123456, tzinfo=UTC)
    live = site(
        1,
        online=True,
        connectors=(
            connector(status=ConnectorStatus.AVAILABLE),
            connector(
                standard=Standard.IEC_62196_T1_COMBO,
                power_type=PowerType.DC,
                max_power_kw=None,
                connector_id=2,
            ),
        ),
    )
    (station,) = live.stations
    plugs = (
        replace(station.connectors[0], status_since=seen),
        replace(station.connectors[1], standard=None, power_type=None, error_code="GroundFailure"),
    )
    live = replace(live, stations=(replace(station, last_seen=seen, connectors=plugs),))
    bare = Site(id=2, details=site(2).details)  # no station at all
    empty = replace(site(3), stations=(Station(id="ST-3", site_id=3),))  # no connector
    found = [(live, 0.0), (bare, 12.3456789), (empty, 20_037_508.34)]

    raw = nearby_json(found)
    direct = json.loads(raw)
    assert nearby_json(found) == raw  # the second time from the sites' kept JSON

    documented = NearbyOut(items=[NearbySiteOut.at(s, d) for s, d in found]).model_dump(mode="json")
    assert direct == documented
    assert direct["items"][0]["stations"][0]["connectors"][0]["status_since"] == (
        "2026-11-26T12:30:15.123456Z"
    )
    assert direct["items"][1]["distance_m"] == 12.35


def test_an_empty_answer_is_an_empty_list() -> None:
    assert json.loads(nearby_json([])) == {"items": []}


def test_the_json_is_byte_for_byte_what_one_serialisation_of_the_whole_answer_gives() -> None:
    seen = datetime(2026, 11, 26, 12, 30, 15, tzinfo=UTC)
    found = [(site(n, online=n % 2 == 0), n * 1234.56789) for n in range(1, 6)]
    found[0] = (replace(found[0][0], stations=()), 0.0)
    found[1] = (
        replace(found[1][0], details=replace(found[1][0].details, name='Q "8" \u00e9')),
        7.0,
    )
    (station,) = found[2][0].stations
    found[2] = (replace(found[2][0], stations=(replace(station, last_seen=seen),)), 20_037_508.34)

    whole = pydantic_core.to_json(
        {"items": [NearbySiteOut.at(s, d).model_dump(mode="json", by_alias=True) for s, d in found]}
    )

    assert nearby_json(found) == whole
    assert nearby_json(found) == whole
    assert nearby_json(found[1:3]) + nearby_json([]) == (
        pydantic_core.to_json({"items": json.loads(whole)["items"][1:3]}) + b'{"items":[]}'
    )
