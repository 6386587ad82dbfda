"""Location privacy: consents off by default, one last position with a time-to-live, none
without consent (drivers/privacy_model.py, drivers/privacy.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.unit.driver_fakes import DriverDataStore
from tests.unit.fakes import EventRecorder, FakeClock
from voltbook.core.bus import InProcessBus
from voltbook.core.errors import Forbidden, InvalidInput, NotFound
from voltbook.drivers.events import ConsentsChanged
from voltbook.drivers.model import Driver, Role
from voltbook.drivers.privacy import LocationNotShared, PrivacyService
from voltbook.drivers.privacy_model import Preferences

ALICE = "driver-alice"
START = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
TTL_S = 1800
SHARING = Preferences(consent_location=True)


@pytest.fixture
def store() -> DriverDataStore:
    found = DriverDataStore()
    found.state.drivers[ALICE] = Driver(ALICE, "alice@example.org", "x", Role.DRIVER, START)
    return found


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
def privacy(store: DriverDataStore, clock: FakeClock) -> PrivacyService:
    return PrivacyService(store.uow, clock, TTL_S)


async def test_both_consents_are_off_for_a_new_account(privacy: PrivacyService) -> None:
    me = await privacy.preferences(ALICE)
    assert (me.consent_location, me.consent_offers) == (False, False)
    assert (me.quiet_hours, me.time_zone) == (None, None)


async def test_a_position_without_location_consent_is_refused_and_not_kept(
    privacy: PrivacyService, store: DriverDataStore
) -> None:
    with pytest.raises(LocationNotShared, match="consent_location") as refused:
        await privacy.record_position(ALICE, 42.35, -71.06, 10)
    assert isinstance(refused.value, Forbidden)
    assert store.state.positions == {}
    assert await privacy.last_position(ALICE) is None


async def test_with_consent_the_last_position_is_kept_until_its_time_to_live(
    privacy: PrivacyService, clock: FakeClock
) -> None:
    await privacy.update_me(ALICE, SHARING)
    kept = await privacy.record_position(ALICE, 42.35, -71.06, 12.5)
    assert kept.expires_at == START + timedelta(seconds=TTL_S)
    assert await privacy.last_position(ALICE) == kept
    clock.advance(TTL_S - 1)
    assert await privacy.last_position(ALICE) == kept
    clock.advance(1)
    assert await privacy.last_position(ALICE) is None


async def test_only_the_newest_position_is_kept_never_a_history(
    privacy: PrivacyService, store: DriverDataStore, clock: FakeClock
) -> None:
    await privacy.update_me(ALICE, SHARING)
    await privacy.record_position(ALICE, 42.35, -71.06)
    clock.advance(30)
    newer = await privacy.record_position(ALICE, 42.36, -71.05)
    late = await privacy.record_position(ALICE, 40.0, -70.0, at=START + timedelta(seconds=10))
    assert late == newer  # an older reading does not replace the newer one
    assert list(store.state.positions.values()) == [newer]
    assert newer.expires_at == START + timedelta(seconds=30 + TTL_S)


async def test_withdrawing_location_consent_deletes_the_position_at_once(
    privacy: PrivacyService, store: DriverDataStore
) -> None:
    await privacy.update_me(ALICE, SHARING)
    await privacy.record_position(ALICE, 42.35, -71.06)
    me = await privacy.update_me(ALICE, Preferences(consent_location=False, consent_offers=True))
    assert (me.consent_location, me.consent_offers) == (False, True)
    assert store.state.positions == {}
    with pytest.raises(LocationNotShared):
        await privacy.record_position(ALICE, 42.35, -71.06)


async def test_forgetting_the_position_deletes_it(
    privacy: PrivacyService, store: DriverDataStore
) -> None:
    await privacy.update_me(ALICE, SHARING)
    await privacy.record_position(ALICE, 42.35, -71.06)
    assert await privacy.forget_position(ALICE) is True
    assert store.state.positions == {}
    assert await privacy.forget_position(ALICE) is False


async def test_the_purge_deletes_expired_positions_only(
    privacy: PrivacyService, store: DriverDataStore, clock: FakeClock
) -> None:
    bob = "driver-bob"
    store.state.drivers[bob] = Driver(bob, "bob@example.org", "x", Role.DRIVER, START)
    for driver in (ALICE, bob):
        await privacy.update_me(driver, SHARING)
    await privacy.record_position(ALICE, 42.35, -71.06)
    clock.advance(600)
    await privacy.record_position(bob, 42.35, -71.06)
    clock.advance(TTL_S - 300)
    assert await privacy.purge() == 1
    assert list(store.state.positions) == [bob]


@pytest.mark.parametrize(
    ("lat", "lon", "accuracy", "message"),
    [
        (91, 0, None, "lat"),
        (0, -181, None, "lon"),
        (float("nan"), 0, None, "lat"),
        (0, 0, -1, "accuracy_m"),
    ],
)
async def test_a_position_outside_the_earth_is_refused(
    privacy: PrivacyService, lat: float, lon: float, accuracy: float | None, message: str
) -> None:
    await privacy.update_me(ALICE, SHARING)
    with pytest.raises(InvalidInput, match=message):
        await privacy.record_position(ALICE, lat, lon, accuracy)


async def test_a_position_from_the_future_is_refused(privacy: PrivacyService) -> None:
    await privacy.update_me(ALICE, SHARING)
    with pytest.raises(InvalidInput, match="future"):
        await privacy.record_position(ALICE, 1, 1, at=START + timedelta(hours=1))


async def test_quiet_hours_and_time_zone_are_stored(privacy: PrivacyService) -> None:
    me = await privacy.update_me(
        ALICE, Preferences(quiet_hours="22:00-07:00", time_zone="America/New_York")
    )
    assert (me.quiet_hours, me.time_zone) == ("22:00-07:00", "America/New_York")


@pytest.mark.parametrize(
    ("preferences", "message"),
    [
        (Preferences(quiet_hours="22:00-22:00"), "quiet_hours"),
        (Preferences(quiet_hours="24:00-07:00"), "quiet_hours"),
        (Preferences(quiet_hours="10pm-7am"), "quiet_hours"),
        (Preferences(time_zone="Mars/Olympus_Mons"), "time_zone"),
        (Preferences(time_zone="../etc/passwd"), "time_zone"),
    ],
)
async def test_quiet_hours_and_zones_outside_the_rules_are_refused(
    privacy: PrivacyService, preferences: Preferences, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message):
        await privacy.update_me(ALICE, preferences)


async def test_an_account_that_is_gone_is_not_found(privacy: PrivacyService) -> None:
    with pytest.raises(NotFound):
        await privacy.update_me("nobody", SHARING)


async def test_a_consent_change_is_published_for_every_node_at_once(
    store: DriverDataStore, clock: FakeClock
) -> None:
    bus = InProcessBus()
    heard = EventRecorder()
    bus.subscribe(ConsentsChanged, heard)
    privacy = PrivacyService(store.uow, clock, TTL_S, bus)
    await privacy.update_me(ALICE, Preferences(consent_location=False, consent_offers=True))
    assert heard.events == [ConsentsChanged(ALICE, consent_location=False, consent_offers=True)]
    assert ConsentsChanged.cluster_wide
