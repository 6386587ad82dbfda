"""The in-process event bus (core/bus.py)."""

from __future__ import annotations

from dataclasses import dataclass

from tests.unit.fakes import EventRecorder
from voltbook.core.bus import Event, InProcessBus


@dataclass(frozen=True, slots=True)
class Parked(Event):
    where: str


@dataclass(frozen=True, slots=True)
class ParkedBadly(Parked):
    pass


@dataclass(frozen=True, slots=True)
class Charged(Event):
    kwh: float


class Boom(RuntimeError):
    pass


async def test_a_subscriber_receives_events_of_its_type() -> None:
    bus = InProcessBus()
    recorder = EventRecorder()
    bus.subscribe(Parked, recorder)
    await bus.publish(Parked("A1"))
    await bus.publish(Parked("A2"))
    assert recorder.events == [Parked("A1"), Parked("A2")]


async def test_a_subscriber_receives_events_of_subclasses_of_its_type() -> None:
    bus = InProcessBus()
    recorder = EventRecorder()
    bus.subscribe(Parked, recorder)
    await bus.publish(ParkedBadly("B7"))
    assert recorder.events == [ParkedBadly("B7")]


async def test_a_subscriber_does_not_receive_other_event_types() -> None:
    bus = InProcessBus()
    parked = EventRecorder()
    badly = EventRecorder()
    bus.subscribe(Parked, parked)
    bus.subscribe(ParkedBadly, badly)
    await bus.publish(Charged(12.5))
    await bus.publish(Parked("C3"))
    assert parked.events == [Parked("C3")]
    assert badly.events == []


async def test_a_subscriber_to_event_receives_everything() -> None:
    bus = InProcessBus()
    recorder = EventRecorder()
    bus.subscribe(Event, recorder)
    await bus.publish(Charged(1.0))
    await bus.publish(Parked("D4"))
    assert recorder.events == [Charged(1.0), Parked("D4")]


async def test_publishing_without_subscribers_is_harmless() -> None:
    bus = InProcessBus()
    await bus.publish(Charged(3.0))
    assert list(bus.failures) == []


async def test_a_failing_handler_does_not_stop_the_others_and_is_recorded() -> None:
    bus = InProcessBus()
    before = EventRecorder()
    after = EventRecorder()

    async def explode(event: Event) -> None:
        raise Boom(f"cannot handle {event}")

    bus.subscribe(Parked, before)
    bus.subscribe(Parked, explode)
    bus.subscribe(Parked, after)
    await bus.publish(Parked("E5"))  # does not raise
    assert before.events == [Parked("E5")]
    assert after.events == [Parked("E5")]
    assert len(bus.failures) == 1
    assert isinstance(bus.failures[0], Boom)


async def test_failures_accumulate_over_several_publications() -> None:
    bus = InProcessBus()

    async def explode(event: Event) -> None:
        raise Boom("again")

    bus.subscribe(Charged, explode)
    await bus.publish(Charged(1.0))
    await bus.publish(Charged(2.0))
    assert [type(f) for f in bus.failures] == [Boom, Boom]


async def test_what_failing_handlers_leave_on_the_bus_is_bounded_and_counted() -> None:
    bus = InProcessBus(keep=2)

    async def explode(event: Event) -> None:
        raise Boom("again")

    bus.subscribe(Charged, explode)
    for kwh in range(5):
        await bus.publish(Charged(float(kwh)))
    assert bus.failed == 5
    assert len(bus.failures) == 2
