"""The nearby answer is serialised without its models, and must say what they say."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime

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

    direct = json.loads(nearby_json(found))

    documented = NearbyOut(items=[NearbySiteOut.at(s, d) for s, d in found]).model_dump(mode="json")
    assert direct == documented
    assert direct["items"][0]["stations"][0]["connectors"][0]["status_since"] == (
        "2026-11-26T12:30:15.123456Z"
    )
    assert direct["items"][1]["distance_m"] == 12.35


def test_an_empty_answer_is_an_empty_list() -> None:
    assert json.loads(nearby_json([])) == {"items": []}
