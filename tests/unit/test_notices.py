"""Notices: a per-driver outbox in sequence, live when the app is open, Web Push when closed;
followed topics decide who hears about a station."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import pytest

from tests.unit.fakes import FakeClock
from tests.unit.notice_fakes import FakePresence, FakePusher, NoticeStore
from voltbook.core.bus import Event, InProcessBus
from voltbook.core.errors import Conflict, InvalidInput
from voltbook.notices.events import NoticeQueued, StationStatusBroadcast
from voltbook.notices.model import AreaTopic, ReservationsTopic, StationTopic, Urgency, parse_topic
from voltbook.notices.service import MAX_TOPICS_PER_DRIVER, NoticeAsk, NoticeService, matches

PARIS = (48.8566, 2.3522)


@pytest.fixture
def store() -> NoticeStore:
    return NoticeStore()


@pytest.fixture
def presence() -> FakePresence:
    return FakePresence()


@pytest.fixture
def pusher() -> FakePusher:
    return FakePusher()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def service(
    store: NoticeStore,
    clock: FakeClock,
    bus: InProcessBus,
    presence: FakePresence,
    pusher: FakePusher,
) -> NoticeService:
    return NoticeService(store.uow, clock, bus, presence, pusher, retention=timedelta(hours=24))


def published(bus: InProcessBus, kind: type[Event]) -> list[Event]:
    seen: list[Event] = []

    async def record(event: Event) -> None:
        seen.append(event)

    bus.subscribe(kind, record)
    return seen


# --- topics ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "topic"),
    [
        ("reservations", ReservationsTopic()),
        ("station:CP-1", StationTopic("CP-1")),
        ("area:48.8566,2.3522,1500", AreaTopic(48.8566, 2.3522, 1500)),
        ("area:-33.9,151.2,50000", AreaTopic(-33.9, 151.2, 50000)),
    ],
)
def test_topics_are_read_and_written_the_same_way(raw: str, topic: object) -> None:
    assert parse_topic(raw) == topic
    assert str(parse_topic(raw)) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "", "weather", "station:", "station:" + "x" * 49, "area:1,2", "area:1,2,3,4",
        "area:91,0,10", "area:0,181,10", "area:0,0,0", "area:0,0,50001", "area:nan,0,10",
        "area:0,inf,10", "area:a,b,c", "Reservations",
    ],
)  # fmt: skip
def test_anything_else_is_not_a_topic(raw: str) -> None:
    with pytest.raises(InvalidInput):
        parse_topic(raw)


def test_a_station_broadcast_concerns_its_followers_and_the_areas_around_it() -> None:
    assert matches(StationTopic("CP-1"), "CP-1", PARIS)
    assert not matches(StationTopic("CP-2"), "CP-1", PARIS)
    assert matches(AreaTopic(48.86, 2.35, 1000), "CP-1", PARIS)
    assert not matches(AreaTopic(48.9, 2.35, 1000), "CP-1", PARIS)  # about 5 km north
    assert not matches(AreaTopic(48.86, 2.35, 1000), "CP-1", None)  # a station with no place
    assert not matches(ReservationsTopic(), "CP-1", PARIS)


async def test_following_twice_is_following_once(service: NoticeService) -> None:
    await service.follow("d1", "station:CP-1")
    await service.follow("d1", "station:CP-1")
    assert await service.followed("d1") == [StationTopic("CP-1")]
    await service.unfollow("d1", "station:CP-1")
    assert await service.followed("d1") == []


async def test_a_driver_follows_a_bounded_number_of_topics(service: NoticeService) -> None:
    for n in range(MAX_TOPICS_PER_DRIVER):
        await service.follow("d1", f"station:CP-{n}")
    with pytest.raises(Conflict):
        await service.follow("d1", "station:one-too-many")


# --- the outbox ----------------------------------------------------------------------------------


async def test_each_notice_takes_the_next_number_of_its_drivers_sequence(
    service: NoticeService,
) -> None:
    made = [await service.notify(d, "offer", {}) for d in ("d1", "d1", "d2", "d1")]
    assert [(n.driver_id, n.seq) for n in made] == [("d1", 1), ("d1", 2), ("d2", 1), ("d1", 3)]


async def test_concurrent_notices_to_one_driver_never_share_a_number(
    service: NoticeService,
) -> None:
    made = await asyncio.gather(*(service.notify("d1", "offer", {"n": n}) for n in range(20)))
    assert sorted(n.seq for n in made) == list(range(1, 21))


async def test_a_reconnecting_app_gets_what_it_missed_in_order(service: NoticeService) -> None:
    for n in range(5):
        await service.notify("d1", "offer", {"n": n})
    missed = await service.missed("d1", 2)
    assert [(m.seq, m.payload["n"]) for m in missed] == [(3, 2), (4, 3), (5, 4)]
    assert await service.missed("d1", 5) == []
    assert await service.latest_seq("d1") == 5


async def test_notices_are_kept_for_the_replay_window_and_then_purged(
    service: NoticeService, clock: FakeClock
) -> None:
    await service.notify("d1", "offer", {})
    clock.advance(23 * 3600)
    assert len(await service.missed("d1", 0)) == 1
    clock.advance(3600)
    assert await service.missed("d1", 0) == []
    assert await service.purge() == 1
    assert await service.latest_seq("d1") == 1  # the sequence never goes back


async def test_an_ack_is_for_one_of_the_drivers_own_notices(service: NoticeService) -> None:
    await service.notify("d1", "offer", {})
    assert await service.ack("d1", 1)
    assert not await service.ack("d2", 1)
    assert not await service.ack("d1", 2)


async def test_every_notice_is_announced_to_the_nodes_holding_live_channels(
    service: NoticeService, bus: InProcessBus
) -> None:
    seen = published(bus, NoticeQueued)
    await service.notify("d1", "offer", {"title": "-20 %"})
    assert seen == [NoticeQueued("d1", 1, "offer", {"title": "-20 %"})]
    assert NoticeQueued.cluster_wide


async def test_notices_made_together_keep_each_drivers_sequence_and_order(
    service: NoticeService, store: NoticeStore
) -> None:
    await service.notify("d1", "first", {})
    made = await service.notify_each(
        [NoticeAsk("d1", "second", {}), NoticeAsk("d2", "only", {}), NoticeAsk("d1", "third", {})]
    )
    assert [(n.driver_id, n.seq, n.kind) for n in made] == [
        ("d1", 2, "second"),
        ("d2", 1, "only"),
        ("d1", 3, "third"),
    ]
    assert [n.kind for n in await service.missed("d1", 0)] == ["first", "second", "third"]


# --- live or Web Push ---------------------------------------------------------------------------


async def test_a_driver_whose_app_is_closed_gets_a_web_push_with_ttl_and_urgency(
    service: NoticeService, pusher: FakePusher, store: NoticeStore
) -> None:
    await service.notify("d1", "reservation.updated", {"event": "moved"}, Urgency.HIGH)
    [(driver, body, ttl, urgency)] = pusher.sent
    assert (driver, ttl, urgency) == ("d1", 3600, Urgency.HIGH)
    assert json.loads(body) == {"type": "reservation.updated", "seq": 1, "event": "moved"}
    assert ("d1", 1) in store.state.pushed


async def test_a_driver_without_any_browser_subscribed_is_not_pushed(
    service: NoticeService, pusher: FakePusher
) -> None:
    pusher.without_browser.add("d1")
    await service.notify_each([NoticeAsk("d1", "offer", {}), NoticeAsk("d2", "offer", {})])
    assert [driver for driver, *_ in pusher.sent] == ["d2"]


async def test_a_driver_whose_app_is_open_is_not_pushed(
    service: NoticeService, pusher: FakePusher, presence: FakePresence
) -> None:
    await presence.joined("d1")
    await service.notify("d1", "offer", {})
    assert pusher.sent == []


async def test_a_push_nobody_took_is_not_marked_pushed(
    service: NoticeService, pusher: FakePusher, store: NoticeStore
) -> None:
    pusher.accepting = 0  # no subscription, or all gone
    await service.notify("d1", "offer", {})
    assert store.state.pushed == set()
    assert len(await service.missed("d1", 0)) == 1  # still waiting in the outbox


# --- station changes ------------------------------------------------------------------------------


async def test_a_station_change_is_broadcast_to_live_channels_without_touching_the_outbox(
    service: NoticeService, bus: InProcessBus, clock: FakeClock, store: NoticeStore
) -> None:
    seen = published(bus, StationStatusBroadcast)
    await service.station_status("CP-1", 1, 1, "Available", clock.now(), PARIS)
    [broadcast] = seen
    assert isinstance(broadcast, StationStatusBroadcast)
    assert broadcast.message()["status"] == "Available"
    assert store.state.notices == {}  # nobody follows it


async def test_followers_with_a_closed_app_get_the_station_change_as_a_notice(
    service: NoticeService, presence: FakePresence, pusher: FakePusher, clock: FakeClock
) -> None:
    await service.follow("station-fan", "station:CP-1")
    await service.follow("neighbour", "area:48.857,2.352,1000")
    await service.follow("far-away", "area:40.7,-74.0,5000")
    await service.follow("open-app", "station:CP-1")
    await presence.joined("open-app")  # hears the live broadcast instead
    await service.station_status("CP-1", 2, 1, "Faulted", clock.now(), PARIS)
    told = {driver: json.loads(body) for driver, body, _, _ in pusher.sent}
    assert set(told) == {"station-fan", "neighbour"}
    assert told["neighbour"]["status"] == "Faulted"
    assert told["neighbour"]["evse_id"] == 2
    assert {urgency for *_, urgency in pusher.sent} == {Urgency.LOW}


async def test_alarms_go_to_every_operator(
    service: NoticeService, store: NoticeStore, pusher: FakePusher
) -> None:
    store.state.staff = ["op-1", "admin-1"]
    assert await service.to_staff("alarm", {"code": "Faulted"}, Urgency.HIGH) == 2
    assert sorted(d for d, *_ in pusher.sent) == ["admin-1", "op-1"]


async def test_one_notice_to_many_drivers_takes_one_number_in_each_sequence(
    service: NoticeService, store: NoticeStore
) -> None:
    await service.notify("d2", "offer", {})
    store.state.deleted.add("gone")
    made = await service.notify_many(["d1", "d2", "gone"], "alarm", {"code": "Faulted"})
    assert sorted((n.driver_id, n.seq) for n in made) == [("d1", 1), ("d2", 2)]


async def test_a_push_service_failing_loses_no_notice(
    service: NoticeService, pusher: FakePusher, store: NoticeStore
) -> None:
    async def broken(*_: object) -> int:
        raise ConnectionError("push service down")

    pusher.push = broken  # type: ignore[method-assign]
    await service.notify("d1", "offer", {})
    assert store.state.pushed == set()
    assert [n.seq for n in await service.missed("d1", 0)] == [1]
