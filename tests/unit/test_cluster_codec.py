"""The JSON codec for what crosses between nodes: cluster-wide events and station commands."""

from __future__ import annotations

import json
import typing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from enum import StrEnum
from typing import ClassVar

import pytest

from voltbook.core.bus import Event
from voltbook.live.codec import DataclassCodec, UnknownType
from voltbook.live.redis_bus import cluster_wide_events
from voltbook.stations.commands import (
    ChangeAvailability,
    ClearCache,
    Command,
    GetConfiguration,
    ReserveNow,
)
from voltbook.stations.events import ConnectorStatusChanged
from voltbook.stations.model import ConnectorStatus


class Mood(StrEnum):
    CALM = "calm"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class Spot:
    name: str
    kw: float


@dataclass(frozen=True, slots=True)
class EverythingHappened(Event):
    cluster_wide: ClassVar[bool] = True

    driver_id: str
    seq: int
    at: datetime
    mood: Mood
    maybe: datetime | None
    tags: tuple[str, ...]
    pair: tuple[int, str]
    spots: tuple[Spot, ...]
    extras: dict[str, int] = field(default_factory=dict)
    payload: dict[str, object] = field(default_factory=dict)
    flag: bool = False


def round_trip(codec: DataclassCodec, value: object) -> object:
    return codec.decode(json.loads(json.dumps(codec.encode(value))))


def test_an_event_comes_back_equal_with_datetimes_enums_tuples_dicts_and_nested_dataclasses() -> (
    None
):
    codec = DataclassCodec([EverythingHappened])
    event = EverythingHappened(
        driver_id="d-1",
        seq=7,
        at=datetime(2026, 11, 26, 22, 0, tzinfo=timezone(timedelta(hours=-5))),
        mood=Mood.BUSY,
        maybe=None,
        tags=("reservations", "station:ST-1"),
        pair=(3, "three"),
        spots=(Spot("north", 50.0), Spot("south", 150.5)),
        extras={"a": 1},
        payload={"nested": [1, "two", None], "ok": True},
        flag=True,
    )
    back = round_trip(codec, event)
    assert back == event
    assert isinstance(back, EverythingHappened)
    assert back.at.utcoffset() == timedelta(hours=-5)
    assert back.mood is Mood.BUSY


def test_an_optional_datetime_that_is_set_comes_back_as_a_datetime() -> None:
    codec = DataclassCodec([EverythingHappened])
    event = EverythingHappened(
        "d", 1, datetime(2026, 1, 1, tzinfo=UTC), Mood.CALM, datetime(2026, 1, 2, tzinfo=UTC),
        (), (1, "x"), (),
    )  # fmt: skip
    back = round_trip(codec, event)
    assert isinstance(back, EverythingHappened)
    assert back.maybe == datetime(2026, 1, 2, tzinfo=UTC)


def test_a_domain_event_with_enum_fields_survives_the_trip() -> None:
    codec = DataclassCodec([ConnectorStatusChanged])
    event = ConnectorStatusChanged(
        "ST-1", 1, 2, ConnectorStatus.FAULTED, ConnectorStatus.AVAILABLE, "GroundFailure",
        datetime(2026, 11, 26, tzinfo=UTC),
    )  # fmt: skip
    assert round_trip(codec, event) == event


@pytest.mark.parametrize(
    "command",
    [
        GetConfiguration(("HeartbeatInterval", "MeterValueSampleInterval")),
        ChangeAvailability(operative=False, evse_id=None),
        ReserveNow(41, "CARD1", datetime(2030, 1, 1, 10, tzinfo=UTC), evse_id=2),
        ClearCache(),
    ],
)
def test_every_kind_of_station_command_travels(command: Command) -> None:
    codec = DataclassCodec(typing.get_args(Command))
    assert round_trip(codec, command) == command


def test_a_message_naming_an_unregistered_class_is_refused() -> None:
    codec = DataclassCodec([Spot])
    with pytest.raises(UnknownType):
        codec.decode({"type": "somewhere.Else", "data": {}})
    with pytest.raises(UnknownType):
        codec.encode(Mood.CALM)


def test_a_value_json_cannot_carry_is_refused_when_encoding() -> None:
    @dataclass
    class Odd:
        when: object

    codec = DataclassCodec([Odd])
    with pytest.raises(TypeError):
        codec.encode(Odd(when={1, 2}))


def test_only_dataclasses_can_be_registered() -> None:
    with pytest.raises(TypeError):
        DataclassCodec([Mood])


def test_discovery_finds_the_loaded_cluster_wide_events_and_no_local_ones() -> None:
    found = cluster_wide_events()
    # Once, and the class itself, not the draft that dataclass(slots=True) replaces.
    assert [c for c in found if c.__name__ == "EverythingHappened"] == [EverythingHappened]
    assert ConnectorStatusChanged not in found
