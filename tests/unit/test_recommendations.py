"""Recommendations: fitting, available chargers within the vehicle's reach, ranked by distance,
power and offers (recommendations/model.py, service.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import pytest

from voltbook.core.errors import InvalidInput, NotFound
from voltbook.recommendations.model import (
    ChargePoint,
    OfferSummary,
    VehicleFacts,
    power_kw,
    reach_m,
    score,
)
from voltbook.recommendations.service import PositionUnknown, RangeUnknown, RecommendationService

ALICE = "driver-alice"
HERE = (42.3555, -71.0605)
CCS1 = "IEC_62196_T1_COMBO"
J1772 = "IEC_62196_T1"
CAR = VehicleFacts("car", frozenset({CCS1, J1772}), max_ac_kw=11, max_dc_kw=100, range_km=100)


def point(station: str, distance_m: float, standard: str = CCS1, kw: float | None = 50,
          power_type: str | None = "DC", evse: int = 1) -> ChargePoint:  # fmt: skip
    return ChargePoint(
        site_id=hash(station) % 1000,
        site_name=f"Site {station}",
        address="1 Main St",
        city="Boston",
        lat=HERE[0],
        lon=HERE[1],
        station_id=station,
        evse_id=evse,
        connector_id=1,
        standard=standard,
        power_type=power_type,
        max_power_kw=kw,
        distance_m=distance_m,
    )


class Fakes:
    def __init__(self) -> None:
        self.vehicle = CAR
        self.position: tuple[float, float] | None = None
        self.points: list[ChargePoint] = []
        self.offers: dict[str, list[OfferSummary]] = {}
        self.searches: list[tuple[float, float, float, frozenset[str]]] = []

    async def facts(self, driver_id: str, vehicle_id: str) -> VehicleFacts:
        if driver_id != ALICE or vehicle_id != self.vehicle.id:
            raise NotFound(f"vehicle {vehicle_id} does not exist")
        return self.vehicle

    async def last(self, driver_id: str) -> tuple[float, float] | None:
        return self.position

    async def available(
        self, lat: float, lon: float, radius_m: float, standards: frozenset[str]
    ) -> list[ChargePoint]:
        self.searches.append((lat, lon, radius_m, standards))
        return list(self.points)  # everything, as a search that may return more

    async def at_stations(self, station_ids: Sequence[str]) -> dict[str, list[OfferSummary]]:
        return {s: self.offers[s] for s in station_ids if s in self.offers}


@pytest.fixture
def fakes() -> Fakes:
    return Fakes()


@pytest.fixture
def service(fakes: Fakes) -> RecommendationService:
    return RecommendationService(fakes, fakes, fakes, fakes, margin_percent=15)


def test_the_reach_keeps_the_safety_margin_in_reserve() -> None:
    assert reach_m(100, 15) == pytest.approx(85_000)
    assert reach_m(100, 0) == pytest.approx(100_000)
    assert reach_m(100, 150) == 0


def test_the_power_is_what_both_charger_and_vehicle_can_do() -> None:
    assert power_kw(point("A", 0, kw=350), CAR) == 100
    assert power_kw(point("A", 0, J1772, kw=19.2, power_type="AC"), CAR) == 11
    assert power_kw(point("A", 0, kw=None), CAR) is None
    unlimited = replace(CAR, max_dc_kw=None)
    assert power_kw(point("A", 0, kw=350), unlimited) == 350


def test_the_score_favours_near_fast_and_offered() -> None:
    reach = 10_000
    assert score(1_000, reach, 50, False) > score(2_000, reach, 50, False)
    assert score(1_000, reach, 150, False) > score(1_000, reach, 50, False)
    assert score(1_000, reach, 50, True) > score(1_000, reach, 50, False)
    assert score(0, reach, 150, True) == pytest.approx(1.0)
    assert score(reach, reach, None, False) == 0


async def test_out_of_reach_and_incompatible_chargers_are_left_out(
    service: RecommendationService, fakes: Fakes
) -> None:
    fakes.points = [
        point("NEAR", 5_000),
        point("FAR", 90_000),  # within the range, beyond the reach of 85 km
        point("CHADEMO", 1_000, standard="CHADEMO"),
    ]
    found = await service.recommend(ALICE, "car", *HERE)
    assert [r.point.station_id for r in found] == ["NEAR"]
    [(lat, lon, radius, plugs)] = fakes.searches
    assert (lat, lon, plugs) == (*HERE, CAR.standards)
    assert radius == pytest.approx(85_000)


async def test_a_nearer_faster_charger_ranks_first(
    service: RecommendationService, fakes: Fakes
) -> None:
    fakes.points = [
        point("SLOW-FAR", 20_000, J1772, kw=7.2, power_type="AC"),
        point("FAST-NEAR", 3_000, kw=150),
        point("FAST-FAR", 20_000, kw=150),
    ]
    found = await service.recommend(ALICE, "car", *HERE)
    assert [r.point.station_id for r in found] == ["FAST-NEAR", "FAST-FAR", "SLOW-FAR"]
    assert found[0].power_kw == 100  # the vehicle's DC limit
    scores = [r.score for r in found]
    assert scores == sorted(scores, reverse=True)


async def test_an_active_offer_lifts_an_otherwise_equal_charger(
    service: RecommendationService, fakes: Fakes
) -> None:
    deal = OfferSummary(1, "20 % off", "percent_off", 20)
    fakes.points = [point("PLAIN", 4_000), point("OFFER", 4_000)]
    fakes.offers = {"OFFER": [deal]}
    found = await service.recommend(ALICE, "car", *HERE)
    assert [r.point.station_id for r in found] == ["OFFER", "PLAIN"]
    assert found[0].offers == (deal,)
    assert found[1].offers == ()


async def test_one_recommendation_per_charging_point_with_its_best_plug(
    service: RecommendationService, fakes: Fakes
) -> None:
    fakes.points = [
        point("A", 1_000, J1772, kw=7, power_type="AC"),
        point("A", 1_000, CCS1, kw=50),
        point("A", 1_000, CCS1, kw=50, evse=2),
    ]
    found = await service.recommend(ALICE, "car", *HERE, limit=10)
    assert [(r.point.evse_id, r.point.standard) for r in found] == [(1, CCS1), (2, CCS1)]


async def test_the_limit_caps_the_list(service: RecommendationService, fakes: Fakes) -> None:
    fakes.points = [point(f"S{i}", 1_000 * i) for i in range(1, 8)]
    assert len(await service.recommend(ALICE, "car", *HERE, limit=3)) == 3


async def test_the_last_shared_position_is_used_when_none_is_given(
    service: RecommendationService, fakes: Fakes
) -> None:
    fakes.position = (40.75, -73.98)
    await service.recommend(ALICE, "car")
    assert fakes.searches[0][:2] == (40.75, -73.98)


async def test_without_any_position_the_driver_is_told_to_send_one(
    service: RecommendationService,
) -> None:
    with pytest.raises(PositionUnknown, match="send lat and lon") as refused:
        await service.recommend(ALICE, "car")
    assert isinstance(refused.value, InvalidInput)


async def test_half_a_position_is_refused(service: RecommendationService) -> None:
    with pytest.raises(InvalidInput, match="both lat and lon"):
        await service.recommend(ALICE, "car", lat=42.0)


async def test_a_vehicle_of_unknown_range_gets_no_recommendations(
    service: RecommendationService, fakes: Fakes
) -> None:
    fakes.vehicle = replace(CAR, range_km=None)
    with pytest.raises(RangeUnknown, match="report them first"):
        await service.recommend(ALICE, "car", *HERE)


async def test_another_drivers_vehicle_is_not_found(service: RecommendationService) -> None:
    with pytest.raises(NotFound):
        await service.recommend("driver-bob", "car", *HERE)
