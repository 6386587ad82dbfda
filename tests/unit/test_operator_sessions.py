"""Sessions for operators (charging/service.py): listed newest first with filters, and a
session the station never reported the end of closed with the operator's reason."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.unit.charging_fakes import SessionStore
from tests.unit.fakes import EventRecorder, FakeClock
from voltbook.charging.events import SessionStopped
from voltbook.charging.model import MeterSample, SessionFilter
from voltbook.charging.service import ChargingService
from voltbook.core.bus import InProcessBus
from voltbook.core.errors import Conflict, NotFound


@pytest.fixture
def store() -> SessionStore:
    store = SessionStore()
    for card in ("CARD-A", "CARD-B"):
        store.register(card)
    store.owners["CARD-A"] = "driver-a"
    return store


@pytest.fixture
def charging(store: SessionStore, clock: FakeClock, bus: InProcessBus) -> ChargingService:
    return ChargingService(store.uow, clock, bus)


async def test_sessions_are_listed_newest_first_with_filters(
    charging: ChargingService, clock: FakeClock
) -> None:
    t0 = clock.now()
    first, _ = await charging.start("S1", 1, None, "CARD-A", 0.0, t0)
    second, _ = await charging.start("S2", 1, None, "CARD-B", 0.0, t0 + timedelta(hours=1))
    third, _ = await charging.start("S1", 2, None, "CARD-A", 0.0, t0 + timedelta(hours=2))
    await charging.stop("S1", first.reference, 100.0, t0 + timedelta(minutes=30), "Local")

    everything = await charging.find(SessionFilter(), None, 10)
    assert [s.id for s in everything] == [third.id, second.id, first.id]
    assert [s.id for s in await charging.find(SessionFilter(), third.id, 10)] == [
        second.id,
        first.id,
    ]
    at_s1 = await charging.find(SessionFilter(station_id="S1"), None, 10)
    assert [s.id for s in at_s1] == [third.id, first.id]
    mine = await charging.find(SessionFilter(driver_id="driver-a"), None, 10)
    assert [s.id for s in mine] == [third.id, first.id]
    running = await charging.find(SessionFilter(active=True), None, 10)
    assert [s.id for s in running] == [third.id, second.id]
    window = SessionFilter(since=t0 + timedelta(minutes=30), until=t0 + timedelta(hours=2))
    assert [s.id for s in await charging.find(window, None, 10)] == [second.id]


async def test_a_stuck_session_is_closed_with_the_reason_and_its_last_energy(
    charging: ChargingService, clock: FakeClock, events: EventRecorder
) -> None:
    session, _ = await charging.start("S1", 1, None, "CARD-A", 1000.0, clock.now())
    await charging.meter(
        "S1", session.reference, [MeterSample(clock.now() + timedelta(minutes=5), 4000.0)]
    )
    clock.advance(86_400)
    closed = await charging.close(session.id, "station lost it")
    assert closed.stop_reason == "station lost it"
    assert closed.stopped_at == clock.now()
    assert closed.energy_wh == 3000.0
    assert [e.session_id for e in events.of_type(SessionStopped)] == [session.id]
    with pytest.raises(Conflict):
        await charging.close(session.id, "again")
    with pytest.raises(NotFound):
        await charging.close(999, "nothing")
    # the station's late stop changes nothing
    late = await charging.stop("S1", session.reference, 9000.0, clock.now(), "Local")
    assert late is not None
    assert late.energy_wh == 3000.0
