"""Bodies of the reservations API."""

from __future__ import annotations

from datetime import datetime

from pydantic import AwareDatetime, BaseModel, Field

from voltbook.api.inputs import Input
from voltbook.api.problems import Problem
from voltbook.reservations.model import BookingRequest, Reservation
from voltbook.stations.fleet import STATION_ID_PATTERN

INT32 = 2**31 - 1


class ReservationIn(Input):
    station_id: str = Field(min_length=1, max_length=48, pattern=STATION_ID_PATTERN)
    connector_id: int | None = Field(
        default=None,
        ge=1,
        le=INT32,
        description="The connector (EVSE) number; left out: any fitting one of the station",
    )
    vehicle_id: str | None = Field(default=None, min_length=1, max_length=36)
    start: AwareDatetime | None = Field(default=None, description="Left out: now")
    minutes: int = Field(ge=1, le=1440)

    def booking(self) -> BookingRequest:
        return BookingRequest(
            station_id=self.station_id,
            minutes=self.minutes,
            evse_id=self.connector_id,
            vehicle_id=self.vehicle_id,
            starts_at=self.start,
        )


class HistoryOut(BaseModel):
    at: datetime
    status: str
    change: str | None
    reason: str
    station_id: str | None = Field(description="Where the booking was when this happened")
    connector_id: int | None


class FreeSlot(BaseModel):
    connector_id: int
    start: datetime
    end: datetime


class SlotTakenProblem(Problem):
    """A refused booking; when the slot was taken (`urn:voltbook:problem:slot-taken`),
    `next_free` offers the earliest free slots of the same length at the station."""

    next_free: list[FreeSlot] | None = None


class AlternativeOut(BaseModel):
    station_id: str
    name: str = Field(description="The site's name")
    distance_m: float = Field(description="From the station the booking was for")


class ReservationOut(BaseModel):
    id: int
    station_id: str
    connector_id: int
    any_connector: bool
    vehicle_id: str | None
    start: datetime
    end: datetime
    no_show_at: datetime
    status: str
    id_tag: str = Field(description="Start charging with this id tag (the app's own token)")
    created_at: datetime
    history: list[HistoryOut]
    alternatives: list[AlternativeOut] = Field(
        description="A failed booking: the nearest other sites with a free fitting connector"
    )

    @classmethod
    def of(cls, r: Reservation) -> ReservationOut:
        return cls(
            id=r.id,
            station_id=r.station_id,
            connector_id=r.evse_id,
            any_connector=r.any_evse,
            vehicle_id=r.vehicle_id,
            start=r.starts_at,
            end=r.ends_at,
            no_show_at=r.no_show_at,
            status=r.status.value,
            id_tag=r.id_tag,
            created_at=r.created_at,
            history=[
                HistoryOut(
                    at=h.at,
                    status=h.status.value,
                    change=h.change.value if h.change else None,
                    reason=h.reason,
                    station_id=h.station_id,
                    connector_id=h.evse_id,
                )
                for h in r.history
            ],
            alternatives=[
                AlternativeOut(station_id=a.station_id, name=a.name, distance_m=round(a.distance_m))
                for a in r.alternatives
            ],
        )


class ReservationPage(BaseModel):
    items: list[ReservationOut]
    next_cursor: str | None


class FreeInterval(BaseModel):
    start: datetime
    end: datetime


class ConnectorAvailability(BaseModel):
    connector_id: int
    free: list[FreeInterval]


class AvailabilityOut(BaseModel):
    station_id: str
    start: datetime
    end: datetime
    connectors: list[ConnectorAvailability]
