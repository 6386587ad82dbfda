"""The offers engine on in-memory fakes: who gets which offer, when, and what redeems it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.fakes import EventRecorder, FakeClock
from tests.unit.offer_fakes import OfferStore, RecordingOutlet
from voltbook.core.bus import Event, InProcessBus
from voltbook.core.errors import Conflict, InvalidInput, NotFound
from voltbook.offers.events import OfferRedeemed
from voltbook.offers.model import Area, OfferKind, Trigger
from voltbook.offers.rules import EngineRules, OfferSpec
from voltbook.offers.service import OfferService

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)  # 10:00 in Boston
LAT, LON = 42.3601, -71.0589  # the offer's centre
OUTSIDE = (42.4601, -71.0589)  # about 11 km north
INSIDE = (42.3651, -71.0589)  # about 550 m north
CCS1 = "IEC_62196_T1_COMBO"
CCS2 = "IEC_62196_T2_COMBO"


class Engine:
    def __init__(self) -> None:
        self.clock = FakeClock(START)
        self.store = OfferStore()
        self.outlet = RecordingOutlet()
        self.bus = InProcessBus()
        self.events = EventRecorder()
        self.bus.subscribe(Event, self.events)
        self.service = OfferService(
            self.store.uow,
            self.outlet,
            self.clock,
            self.bus,
            EngineRules(max_per_hour=3, position_ttl=timedelta(minutes=30)),
        )

    async def offer(self, trigger: Trigger = Trigger.AREA_ENTRY, **fields: object) -> int:
        spec = {
            "title": "Half price at the garage",
            "kind": OfferKind.PERCENT_OFF,
            "value": 50.0,
            "area": Area(LAT, LON, 2_000.0),
            "trigger": trigger,
            "ends_at": START + timedelta(hours=8),
        }
        if trigger is Trigger.IDLE_STATION:
            spec["idle_minutes"] = 20
        if trigger is Trigger.LOW_SOC:
            spec["soc_below"] = 30.0
        spec.update(fields)
        offer = await self.service.create("operator-1", OfferSpec(**spec))  # type: ignore[arg-type]
        assert offer.id is not None
        return offer.id

    async def move(self, driver: str, point: tuple[float, float]) -> int:
        return await self.service.position_reported(driver, point[0], point[1], self.clock.now())

    async def enter(self, driver: str) -> int:
        """Drive from outside the area into it."""
        await self.move(driver, OUTSIDE)
        self.clock.advance(60)
        return await self.move(driver, INSIDE)

    def fresh_position(self, driver: str, point: tuple[float, float] = INSIDE) -> None:
        self.store.position(driver, point[0], point[1], self.clock.now() + timedelta(minutes=30))

    def sent_to(self, driver: str) -> list[int]:
        return [s.offer_id for s in self.outlet.sent if s.driver_id == driver]


@pytest.fixture
def engine() -> Engine:
    e = Engine()
    e.store.charger("GARAGE", LAT, LON)
    return e


# --- area entry ---------------------------------------------------------------------------


async def test_a_driver_entering_the_area_gets_the_offer_naming_the_nearest_charger_that_fits(
    engine: Engine,
) -> None:
    engine.store.charger("FAR-CCS1", LAT - 0.01, LON, plug=CCS1)
    engine.store.charger("NEAR-CCS1", INSIDE[0], INSIDE[1], plug=CCS1)
    engine.store.driver("ann")
    offer_id = await engine.offer()

    assert await engine.enter("ann") == 1

    [sent] = engine.outlet.sent
    assert (sent.driver_id, sent.offer_id, sent.station_id) == ("ann", offer_id, "GARAGE")
    [delivery] = engine.store.deliveries()
    assert delivery.channel == "live"
    assert delivery.id == sent.delivery_id


async def test_area_entry_fires_on_entering_only_not_on_every_position_inside(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    await engine.offer(max_per_driver=5)

    assert await engine.enter("ann") == 1
    for step in range(5):
        engine.clock.advance(30)
        assert await engine.move("ann", (INSIDE[0] + step * 0.0005, INSIDE[1])) == 0

    assert engine.sent_to("ann") != []
    assert len(engine.outlet.sent) == 1


async def test_leaving_and_entering_again_fires_again_within_the_per_driver_cap(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    await engine.offer(max_per_driver=2)

    results = []
    for _ in range(3):
        results.append(await engine.enter("ann"))
        engine.clock.advance(60)

    assert results == [1, 1, 0]


async def test_an_offer_made_over_a_driver_already_in_the_area_does_not_count_as_entered(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    await engine.move("ann", INSIDE)
    await engine.offer()

    engine.clock.advance(30)
    assert await engine.move("ann", (INSIDE[0] + 0.0005, INSIDE[1])) == 0


async def test_a_driver_first_seen_inside_the_area_has_not_entered_it(engine: Engine) -> None:
    engine.store.driver("ann")
    await engine.offer()

    assert await engine.move("ann", INSIDE) == 0
    engine.clock.advance(60)
    assert await engine.move("ann", OUTSIDE) == 0
    engine.clock.advance(60)
    assert await engine.move("ann", INSIDE) == 1


async def test_a_driver_whose_vehicles_fit_no_charger_of_the_offer_gets_nothing(
    engine: Engine,
) -> None:
    engine.store.driver("ann", plugs=("CHADEMO",))
    await engine.offer()

    assert await engine.enter("ann") == 0


async def test_drivers_who_did_not_consent_to_offers_get_none(engine: Engine) -> None:
    engine.store.driver("bob", consent=False)
    await engine.offer()

    assert await engine.enter("bob") == 0
    assert engine.outlet.sent == []
    assert engine.store.deliveries() == []


async def test_no_offer_is_sent_in_the_drivers_quiet_hours_in_their_time_zone(
    engine: Engine,
) -> None:
    # 15:00 UTC is 10:00 in Boston and 16:00 in Berlin.
    engine.store.driver("ann", quiet_hours="09:00-11:00", time_zone="America/New_York")
    engine.store.driver("ben", quiet_hours="09:00-11:00", time_zone="Europe/Berlin")
    engine.store.driver("cat", quiet_hours="22:00-11:00", time_zone="America/New_York")
    await engine.offer()

    assert await engine.enter("ann") == 0
    assert await engine.enter("ben") == 1
    assert await engine.enter("cat") == 0


async def test_quiet_hours_end_and_the_next_entry_gets_the_offer(engine: Engine) -> None:
    engine.store.driver("ann", quiet_hours="09:00-11:00", time_zone="America/New_York")
    await engine.offer()
    assert await engine.enter("ann") == 0

    engine.clock.advance(3600)  # 11:01 in Boston
    assert await engine.enter("ann") == 1


async def test_a_driver_gets_at_most_the_hourly_number_of_offers_across_all_offers(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    for _ in range(4):
        await engine.offer()

    assert await engine.enter("ann") == 3

    engine.clock.advance(3600)
    assert await engine.enter("ann") == 1  # the fourth, now the hour has passed
    assert sorted(engine.sent_to("ann")) == [1, 2, 3, 4]


async def test_an_offer_whose_redemptions_are_used_up_is_sent_no_more(engine: Engine) -> None:
    engine.store.driver("ann", id_tag="TAG-ANN")
    engine.store.driver("ben")
    await engine.offer(max_redemptions=1)
    assert await engine.enter("ann") == 1
    engine.clock.advance(600)
    assert await engine.service.session_started("GARAGE", "ann", 7, engine.clock.now())

    assert await engine.enter("ben") == 0


async def test_an_ended_offer_is_never_sent(engine: Engine) -> None:
    engine.store.driver("ann")
    offer_id = await engine.offer()
    await engine.service.end(offer_id)

    assert await engine.enter("ann") == 0
    assert await engine.service.idle_check() == 0


async def test_an_offer_ended_on_another_node_is_not_sent_even_before_this_node_refreshes(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    offer_id = await engine.offer()
    other_node = OfferService(engine.store.uow, RecordingOutlet(), engine.clock, InProcessBus())
    await other_node.end(offer_id)

    assert await engine.enter("ann") == 0
    assert engine.service.live_offers == 0


async def test_offers_are_sent_only_inside_their_window(engine: Engine) -> None:
    engine.store.driver("ann")
    await engine.offer(starts_at=START + timedelta(hours=1), ends_at=START + timedelta(hours=2))

    assert await engine.enter("ann") == 0  # not started
    engine.clock.advance(3600)
    assert await engine.enter("ann") == 1
    engine.clock.advance(3600)
    engine.store.driver("ben")
    assert await engine.enter("ben") == 0  # expired


# --- idle station -------------------------------------------------------------------------


async def test_an_idle_connector_brings_the_offer_to_nearby_drivers_whose_vehicle_fits(
    engine: Engine,
) -> None:
    engine.store.charger("GARAGE", LAT, LON, available_since=START - timedelta(hours=1))
    engine.store.driver("ann")
    engine.store.driver("ben", plugs=(CCS1,))
    engine.store.driver("cat")
    for driver in ("ann", "ben"):
        engine.fresh_position(driver)
    engine.fresh_position("cat", OUTSIDE)
    offer_id = await engine.offer(Trigger.IDLE_STATION, idle_minutes=20)

    engine.clock.advance(19 * 60)
    assert await engine.service.idle_check() == 0  # idle 19 minutes inside the window
    engine.clock.advance(60)
    assert await engine.service.idle_check() == 1

    [sent] = engine.outlet.sent
    assert (sent.driver_id, sent.offer_id, sent.station_id) == ("ann", offer_id, "GARAGE")


async def test_an_idle_offer_names_the_charger_idle_longest_within_reach_not_the_nearest(
    engine: Engine,
) -> None:
    # At the driver, idle 40 minutes; 550 m away, idle three hours; 11 km away, idle a day.
    engine.store.charger("NEAR", LAT, LON, available_since=START - timedelta(minutes=40))
    engine.store.charger("LONGEST", *INSIDE, available_since=START - timedelta(hours=3))
    engine.store.charger("FAR", *OUTSIDE, available_since=START - timedelta(days=1))
    engine.store.driver("ann")
    engine.fresh_position("ann", (LAT, LON))
    await engine.offer(Trigger.IDLE_STATION, area=Area(LAT, LON, 20_000.0))

    engine.clock.advance(20 * 60)
    assert await engine.service.idle_check() == 1
    [sent] = engine.outlet.sent
    assert sent.station_id == "LONGEST"  # FAR has sat idle longer, but lies out of reach


async def test_with_no_idle_charger_within_reach_the_nearest_idle_one_is_named(
    engine: Engine,
) -> None:
    engine.store.charger("FAR", *OUTSIDE, available_since=START - timedelta(hours=1))
    engine.store.charger("FARTHER", 42.56, -71.0589, available_since=START - timedelta(days=1))
    engine.store.driver("ann")
    engine.fresh_position("ann", (LAT, LON))
    await engine.offer(Trigger.IDLE_STATION, area=Area(LAT, LON, 40_000.0))

    engine.clock.advance(20 * 60)
    assert await engine.service.idle_check() == 1
    [sent] = engine.outlet.sent
    assert sent.station_id == "FAR"


async def test_each_driver_hears_of_one_idle_stretch_once(engine: Engine) -> None:
    engine.store.charger("GARAGE", LAT, LON, available_since=START - timedelta(hours=1))
    engine.store.driver("ann")
    engine.fresh_position("ann")
    await engine.offer(Trigger.IDLE_STATION, idle_minutes=5, max_per_driver=10)

    engine.clock.advance(600)
    assert await engine.service.idle_check() == 1
    engine.clock.advance(15)
    assert await engine.service.idle_check() == 0

    # The connector is taken and freed again: a new idle stretch.
    engine.clock.advance(600)
    engine.store.charger("GARAGE", LAT, LON, available_since=engine.clock.now())
    engine.clock.advance(301)
    assert await engine.service.idle_check() == 1


async def test_drivers_whose_position_has_expired_or_who_did_not_consent_hear_of_no_idle_charger(
    engine: Engine,
) -> None:
    engine.store.charger("GARAGE", LAT, LON, available_since=START - timedelta(hours=1))
    engine.store.driver("ann")
    engine.store.driver("bob", consent=False)
    engine.store.position("ann", INSIDE[0], INSIDE[1], START + timedelta(minutes=5))
    engine.fresh_position("bob")
    await engine.offer(Trigger.IDLE_STATION, idle_minutes=20)

    engine.clock.advance(21 * 60)
    assert await engine.service.idle_check() == 0


async def test_idle_time_is_taken_from_connector_status_seen_on_this_node_when_storage_lacks_it(
    engine: Engine,
) -> None:
    engine.store.charger("GARAGE", LAT, LON, available_since=None)
    engine.store.driver("ann")
    engine.fresh_position("ann")
    await engine.offer(Trigger.IDLE_STATION, idle_minutes=20)
    engine.service.connector_status("GARAGE", 1, "Available", engine.clock.now())

    engine.clock.advance(21 * 60)
    assert await engine.service.idle_check() == 1


# --- low state of charge ------------------------------------------------------------------


async def test_a_low_battery_in_the_area_brings_the_nearest_free_charger_that_fits(
    engine: Engine,
) -> None:
    engine.store.charger("GARAGE", LAT, LON, available=False)  # occupied
    engine.store.charger("NEXT-DOOR", INSIDE[0] + 0.0005, INSIDE[1], plug=CCS1)  # wrong plug
    engine.store.charger("ACROSS", LAT - 0.005, LON)
    engine.store.driver("ann")
    await engine.move("ann", INSIDE)
    offer_id = await engine.offer(Trigger.LOW_SOC, soc_below=30.0)

    assert await engine.service.vehicle_reported("ann", "car-1", 45.0, engine.clock.now()) == 0
    assert await engine.service.vehicle_reported("ann", "car-1", 25.0, engine.clock.now()) == 1

    [sent] = engine.outlet.sent
    assert (sent.offer_id, sent.station_id) == (offer_id, "ACROSS")


async def test_low_soc_fires_once_while_the_charge_stays_low_and_again_after_it_rose(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    engine.fresh_position("ann")  # a position known from storage (another node)
    await engine.offer(Trigger.LOW_SOC, soc_below=30.0, max_per_driver=5)
    report = engine.service.vehicle_reported

    assert await report("ann", "car-1", 29.0, engine.clock.now()) == 1
    assert await report("ann", "car-1", 27.0, engine.clock.now()) == 0
    assert await report("ann", "car-1", 80.0, engine.clock.now()) == 0
    assert await report("ann", "car-1", 20.0, engine.clock.now()) == 1


async def test_low_soc_outside_the_area_or_of_someone_elses_vehicle_brings_nothing(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    engine.store.driver("ben")
    engine.fresh_position("ann", OUTSIDE)
    engine.fresh_position("ben")
    await engine.offer(Trigger.LOW_SOC, soc_below=30.0)

    assert await engine.service.vehicle_reported("ann", "car-1", 10.0, engine.clock.now()) == 0
    assert await engine.service.vehicle_reported("ben", "not-bens", 10.0, engine.clock.now()) == 0


# --- redemption and stats -----------------------------------------------------------------


async def test_a_session_at_the_station_within_the_offers_validity_redeems_it_with_the_idle_minutes_filled(
    engine: Engine,
) -> None:
    engine.store.driver("ann", id_tag="TAG-ANN")
    offer_id = await engine.offer()
    engine.service.connector_status("GARAGE", 1, "Available", START - timedelta(minutes=30))
    await engine.enter("ann")
    engine.clock.advance(40 * 60)
    engine.service.connector_status("GARAGE", 1, "Preparing", engine.clock.now())
    engine.clock.advance(60)

    redeemed = await engine.service.session_started_by_tag(
        "GARAGE", 1, "TAG-ANN", 42, engine.clock.now()
    )

    assert redeemed
    [delivery] = engine.store.deliveries()
    assert delivery.session_id == 42
    # Idle from the offer's start (15:00) until the connector was taken (15:41).
    assert delivery.idle_minutes_filled == pytest.approx(41.0)
    stats = await engine.service.stats(offer_id)
    assert (stats.sent, stats.redeemed, stats.idle_minutes_filled) == (1, 1, pytest.approx(41.0))
    [event] = engine.events.of_type(OfferRedeemed)
    assert (event.offer_id, event.session_id) == (offer_id, 42)


async def test_a_session_after_the_offer_ended_or_at_a_station_out_of_scope_redeems_nothing(
    engine: Engine,
) -> None:
    engine.store.charger("ELSEWHERE", OUTSIDE[0], OUTSIDE[1])
    engine.store.driver("ann")
    offer_id = await engine.offer()
    await engine.enter("ann")

    assert not await engine.service.session_started("ELSEWHERE", "ann", 1, engine.clock.now())
    await engine.service.end(offer_id)
    assert not await engine.service.session_started("GARAGE", "ann", 2, engine.clock.now())
    assert (await engine.service.stats(offer_id)).redeemed == 0


async def test_a_session_redeems_one_delivery_only_once(engine: Engine) -> None:
    engine.store.driver("ann")
    await engine.offer()
    await engine.enter("ann")

    assert await engine.service.session_started("GARAGE", "ann", 1, engine.clock.now())
    assert not await engine.service.session_started("GARAGE", "ann", 2, engine.clock.now())


async def test_a_session_of_an_unknown_id_tag_redeems_nothing(engine: Engine) -> None:
    engine.store.driver("ann")
    await engine.offer()
    await engine.enter("ann")

    assert not await engine.service.session_started_by_tag("GARAGE", 1, "NOBODY", 1, START)
    assert not await engine.service.session_started_by_tag("GARAGE", 1, None, 1, START)


async def test_opening_counts_once_and_only_for_the_drivers_own_delivery(engine: Engine) -> None:
    engine.store.driver("ann")
    offer_id = await engine.offer()
    await engine.enter("ann")
    [sent] = engine.outlet.sent

    await engine.service.opened("ann", sent.delivery_id)
    await engine.service.opened("ann", sent.delivery_id)
    with pytest.raises(NotFound):
        await engine.service.opened("ben", sent.delivery_id)

    stats = await engine.service.stats(offer_id)
    assert (stats.sent, stats.opened, stats.redeemed) == (1, 1, 0)


# --- operators ----------------------------------------------------------------------------


async def test_moving_an_offers_area_takes_effect_at_once(engine: Engine) -> None:
    engine.store.driver("ann")
    engine.store.charger("NORTH", OUTSIDE[0], OUTSIDE[1])
    offer_id = await engine.offer()

    await engine.service.update(offer_id, {"area": Area(OUTSIDE[0], OUTSIDE[1], 1_500.0)})

    assert await engine.move("ann", INSIDE) == 0
    engine.clock.advance(60)
    assert await engine.move("ann", OUTSIDE) == 1
    assert engine.outlet.sent[0].station_id == "NORTH"


async def test_an_ended_offer_cannot_change_and_ending_it_again_is_harmless(
    engine: Engine,
) -> None:
    offer_id = await engine.offer()
    ended = await engine.service.end(offer_id)
    again = await engine.service.end(offer_id)

    assert again.ended_at == ended.ended_at == START
    with pytest.raises(Conflict):
        await engine.service.update(offer_id, {"title": "Too late"})


async def test_changes_must_keep_the_offers_rules(engine: Engine) -> None:
    offer_id = await engine.offer()

    with pytest.raises(InvalidInput):
        await engine.service.update(offer_id, {"trigger": Trigger.IDLE_STATION})
    with pytest.raises(InvalidInput):
        await engine.service.update(offer_id, {"ends_at": START - timedelta(minutes=1)})
    with pytest.raises(InvalidInput):
        await engine.service.update(offer_id, {"id": 99})
    assert (await engine.service.get(offer_id)).trigger is Trigger.AREA_ENTRY


async def test_an_offer_ending_in_the_past_is_refused(engine: Engine) -> None:
    with pytest.raises(InvalidInput):
        await engine.offer(starts_at=START - timedelta(hours=2), ends_at=START - timedelta(hours=1))


async def test_refresh_picks_up_offers_made_on_another_node(engine: Engine) -> None:
    engine.store.driver("ann")
    other_node = OfferService(engine.store.uow, RecordingOutlet(), engine.clock, InProcessBus())
    spec = OfferSpec(
        "Made elsewhere",
        OfferKind.PRICE_PER_KWH,
        0.19,
        Area(LAT, LON, 2_000.0),
        Trigger.AREA_ENTRY,
        START + timedelta(hours=1),
    )
    await other_node.create(None, spec)

    assert await engine.enter("ann") == 0
    assert await engine.service.refresh() == 1
    engine.clock.advance(60)
    assert await engine.enter("ann") == 1


async def test_unknown_offers_are_not_found(engine: Engine) -> None:
    with pytest.raises(NotFound):
        await engine.service.get(404)
    with pytest.raises(NotFound):
        await engine.service.stats(404)
    with pytest.raises(NotFound):
        await engine.service.end(404)
    with pytest.raises(NotFound):
        await engine.service.update(404, {"title": "x"})


async def test_once_consents_are_loaded_a_new_consent_counts_at_once(engine: Engine) -> None:
    engine.store.driver("bob", consent=False)
    await engine.offer(max_per_driver=3)
    await engine.service.refresh()

    engine.store.driver("bob", consent=True)
    engine.service.consent_changed("bob", consent_offers=True)  # from any node's bus
    assert await engine.enter("bob") == 1  # no wait for the next refresh


async def test_a_consent_event_for_a_withdrawal_stops_offers_without_asking_storage(
    engine: Engine,
) -> None:
    engine.store.driver("ann")
    await engine.offer(max_per_driver=3)
    await engine.service.refresh()
    engine.service.consent_changed("ann", consent_offers=False)
    assert await engine.enter("ann") == 0


async def test_raising_max_per_driver_lets_the_offer_reach_a_driver_again(engine: Engine) -> None:
    engine.store.driver("ann")
    offer_id = await engine.offer(max_per_driver=1)
    assert await engine.enter("ann") == 1
    engine.clock.advance(60)
    assert await engine.enter("ann") == 0

    await engine.service.update(offer_id, {"max_per_driver": 2})
    engine.clock.advance(60)
    assert await engine.enter("ann") == 1


async def test_a_withdrawn_consent_counts_at_once(engine: Engine) -> None:
    engine.store.driver("ann")
    await engine.offer(max_per_driver=3)
    assert await engine.enter("ann") == 1

    await engine.service.refresh()  # ann is among the consenting drivers now
    engine.store.driver("ann", consent=False)
    engine.clock.advance(60)
    assert await engine.enter("ann") == 0


async def test_a_charger_whose_plugs_nobody_stated_is_not_ruled_out(engine: Engine) -> None:
    engine.store.chargers.clear()
    engine.store.charger("OCPP-ONLY", LAT, LON, plug="")
    engine.store.driver("ann", plugs=(CCS1,))
    await engine.offer()

    assert await engine.enter("ann") == 1
    assert engine.outlet.sent[0].station_id == "OCPP-ONLY"


async def test_drivers_who_reported_to_this_node_hear_of_an_idle_charger_even_before_storage_has_their_position(
    engine: Engine,
) -> None:
    engine.store.charger("GARAGE", LAT, LON, available_since=START - timedelta(hours=1))
    engine.store.driver("ann")
    engine.store.driver("bob", consent=False)
    await engine.offer(Trigger.IDLE_STATION, idle_minutes=20)
    await engine.move("ann", INSIDE)
    await engine.move("bob", INSIDE)

    engine.clock.advance(21 * 60)
    assert await engine.service.idle_check() == 1
    assert engine.sent_to("ann") != []
    engine.clock.advance(30 * 60)  # ann's position has now outlived its time to live
    engine.store.charger(
        "GARAGE", LAT, LON, available_since=engine.clock.now() - timedelta(hours=1)
    )
    assert await engine.service.idle_check() == 0


# --- which offers run at a station (for recommendations) ----------------------------------


async def test_offers_run_at_the_stations_they_name_or_whose_place_their_area_holds(
    engine: Engine,
) -> None:
    around = await engine.offer()  # names no station: its area decides
    named = await engine.offer(station_ids=("FAR-AWAY",), title="Only there")
    later = await engine.offer(
        starts_at=START + timedelta(hours=1), ends_at=START + timedelta(hours=2)
    )

    running = engine.service.running_at(
        {"GARAGE": INSIDE, "FAR-AWAY": OUTSIDE, "NOWHERE": None, "ELSEWHERE": OUTSIDE},
        engine.clock.now(),
    )

    assert {sid: [o.id for o in offers] for sid, offers in running.items()} == {
        "GARAGE": [around],
        "FAR-AWAY": [named],
    }
    later_on = engine.service.running_at({"GARAGE": INSIDE}, START + timedelta(hours=1))
    assert sorted(o.id for o in later_on["GARAGE"]) == sorted([around, later])
