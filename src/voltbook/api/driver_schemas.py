"""Bodies of the driver's own API: the account's settings, vehicles, position, recommendations."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, Field
from pydantic.config import JsonDict
from pydantic.json_schema import SkipJsonSchema

from voltbook.api.inputs import Input
from voltbook.api.schemas import AccountOut
from voltbook.drivers.model import Driver
from voltbook.drivers.privacy_model import MAX_ACCURACY_M, MAX_ZONE, QUIET_HOURS_PATTERN, Position
from voltbook.drivers.vehicle_model import (
    MAX_AC_KW,
    MAX_BATTERY_KWH,
    MAX_DC_KW,
    MAX_NAME,
    MAX_RANGE_KM,
    MAX_STANDARDS,
    MIN_BATTERY_KWH,
    NAME_PATTERN,
    Vehicle,
)
from voltbook.recommendations.model import OfferSummary, Recommendation
from voltbook.stations.standards import COMMON_NAMES, Standard, accepted_names

_STANDARD_ITEMS: JsonDict = {"items": {"type": "string", "enum": list(accepted_names())}}
ZONE_PATTERN = r"^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$"


def display_name(standard: str) -> str:
    """The name drivers use for an OCPI ConnectorType (CCS1, NACS, …)."""
    try:
        return COMMON_NAMES.get(Standard(standard), standard)
    except ValueError:
        return standard


# --- the account ------------------------------------------------------------------------


class MeOut(AccountOut):
    quiet_hours: str | None = Field(description="No pushes in this local time window")
    time_zone: str | None = Field(description="IANA time zone of the quiet hours")

    @classmethod
    def of(cls, driver: Driver) -> MeOut:
        return cls(
            **AccountOut.of(driver).model_dump(),
            quiet_hours=driver.quiet_hours,
            time_zone=driver.time_zone,
        )


class MePatch(Input):
    """Only the fields sent change; `null` clears quiet_hours or time_zone."""

    consent_location: bool | SkipJsonSchema[None] = Field(
        default=None, description="false also deletes your stored position at once"
    )
    consent_offers: bool | SkipJsonSchema[None] = None
    quiet_hours: str | None = Field(
        default=None, pattern=QUIET_HOURS_PATTERN, examples=["22:00-07:00"]
    )
    time_zone: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_ZONE,
        pattern=ZONE_PATTERN,
        examples=["America/New_York"],
    )


# --- the position -------------------------------------------------------------------------


class PositionIn(Input):
    lat: float = Field(ge=-90, le=90, allow_inf_nan=False)
    lon: float = Field(ge=-180, le=180, allow_inf_nan=False)
    accuracy_m: float | None = Field(default=None, ge=0, le=MAX_ACCURACY_M, allow_inf_nan=False)
    at: AwareDatetime | None = Field(default=None, description="When it was taken; default now")


class PositionOut(BaseModel):
    lat: float
    lon: float
    accuracy_m: float | None
    reported_at: datetime
    expires_at: datetime = Field(description="voltbook forgets the position at this time")

    @classmethod
    def of(cls, position: Position) -> PositionOut:
        return cls(
            lat=position.lat,
            lon=position.lon,
            accuracy_m=position.accuracy_m,
            reported_at=position.reported_at,
            expires_at=position.expires_at,
        )


# --- vehicles -----------------------------------------------------------------------------

_NAME = Field(min_length=1, max_length=MAX_NAME, pattern=NAME_PATTERN)
_STANDARDS_DESCRIPTION = (
    "Plugs the vehicle takes: OCPI names (IEC_62196_T1_COMBO) or common names "
    "(J1772, CCS1, CCS2, Type 2, CHAdeMO, NACS …)"
)


class VehicleIn(Input):
    name: str = _NAME
    battery_kwh: float = Field(ge=MIN_BATTERY_KWH, le=MAX_BATTERY_KWH, allow_inf_nan=False)
    standards: list[str] = Field(
        min_length=1,
        max_length=MAX_STANDARDS,
        description=_STANDARDS_DESCRIPTION,
        json_schema_extra=_STANDARD_ITEMS,
    )
    max_ac_kw: float | None = Field(default=None, gt=0, le=MAX_AC_KW, allow_inf_nan=False)
    max_dc_kw: float | None = Field(default=None, gt=0, le=MAX_DC_KW, allow_inf_nan=False)


Name = Annotated[str, Field(min_length=1, max_length=MAX_NAME, pattern=NAME_PATTERN)]
BatteryKwh = Annotated[float, Field(ge=MIN_BATTERY_KWH, le=MAX_BATTERY_KWH, allow_inf_nan=False)]
Standards = Annotated[
    list[str],
    Field(
        min_length=1,
        max_length=MAX_STANDARDS,
        description=_STANDARDS_DESCRIPTION,
        json_schema_extra=_STANDARD_ITEMS,
    ),
]
SocPercent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]
RangeKm = Annotated[float, Field(ge=0, le=MAX_RANGE_KM, allow_inf_nan=False)]


class VehiclePatch(Input):
    """Only the fields sent change; `null` makes a charging limit unknown."""

    name: Name | SkipJsonSchema[None] = None
    battery_kwh: BatteryKwh | SkipJsonSchema[None] = None
    standards: Standards | SkipJsonSchema[None] = None
    max_ac_kw: float | None = Field(default=None, gt=0, le=MAX_AC_KW, allow_inf_nan=False)
    max_dc_kw: float | None = Field(default=None, gt=0, le=MAX_DC_KW, allow_inf_nan=False)


class VehicleStateIn(Input):
    """The app's reading of the vehicle: the state of charge, the range, or both."""

    soc_percent: SocPercent | SkipJsonSchema[None] = None
    range_km: RangeKm | SkipJsonSchema[None] = None
    at: AwareDatetime | None = Field(default=None, description="When it was read; default now")


class VehicleOut(BaseModel):
    id: str
    name: str
    battery_kwh: float
    standards: list[str] = Field(description="OCPI 2.2.1 ConnectorType names")
    standard_names: list[str] = Field(description="The same plugs as drivers name them")
    max_ac_kw: float | None
    max_dc_kw: float | None
    soc_percent: float | None = Field(description="Last known state of charge")
    range_km: float | None = Field(description="Last known range (reported or kept in step)")
    reported_at: datetime | None = Field(description="When the state was last reported")
    created_at: datetime

    @classmethod
    def of(cls, vehicle: Vehicle) -> VehicleOut:
        return cls(
            id=vehicle.id,
            name=vehicle.name,
            battery_kwh=vehicle.battery_kwh,
            standards=list(vehicle.standards),
            standard_names=[display_name(s) for s in vehicle.standards],
            max_ac_kw=vehicle.max_ac_kw,
            max_dc_kw=vehicle.max_dc_kw,
            soc_percent=vehicle.soc_percent,
            range_km=vehicle.range_km,
            reported_at=vehicle.reported_at,
            created_at=vehicle.created_at,
        )


class VehicleList(BaseModel):
    items: list[VehicleOut]


# --- recommendations ----------------------------------------------------------------------


class OfferOut(BaseModel):
    id: int
    title: str
    kind: str
    value: float
    ends_at: datetime | None

    @classmethod
    def of(cls, offer: OfferSummary) -> OfferOut:
        return cls(
            id=offer.id,
            title=offer.title,
            kind=offer.kind,
            value=offer.value,
            ends_at=offer.ends_at,
        )


class RecommendedSite(BaseModel):
    id: int
    name: str
    address: str
    city: str
    lat: float
    lon: float


class RecommendationOut(BaseModel):
    site: RecommendedSite
    station_id: str
    connector_id: int = Field(description="The EVSE number to book (as in reservations)")
    plug_id: int = Field(description="The connector within the EVSE")
    standard: str
    standard_name: str
    power_type: str | None
    power_kw: float | None = Field(description="What this vehicle can draw here; null: unknown")
    distance_m: float
    offers: list[OfferOut]
    score: float = Field(description="Higher is better: distance, power and offers combined")
    likely_free: bool | None = Field(
        None,
        description="Whether the station is likely to still have a free connector in 30 "
        "minutes (the availability forecast); null when not known",
    )

    @classmethod
    def of(cls, item: Recommendation, likely_free: bool | None = None) -> RecommendationOut:
        p = item.point
        return cls(
            site=RecommendedSite(
                id=p.site_id, name=p.site_name, address=p.address, city=p.city, lat=p.lat, lon=p.lon
            ),
            station_id=p.station_id,
            connector_id=p.evse_id,
            plug_id=p.connector_id,
            standard=p.standard,
            standard_name=display_name(p.standard),
            power_type=p.power_type,
            power_kw=item.power_kw,
            distance_m=round(p.distance_m, 1),
            offers=[OfferOut.of(o) for o in item.offers],
            score=item.score,
            likely_free=likely_free,
        )


class RecommendationList(BaseModel):
    items: list[RecommendationOut]
