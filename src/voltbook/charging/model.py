"""Charging sessions and meter samples as plain data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum


class Authorization(StrEnum):
    """OCPP's authorization outcome (1.6 names; 2.0.1 maps onto them at the gateway), and
    one of voltbook's own: HELD_FOR_OTHERS, a tag refused only because reservations hold
    the connectors for other drivers right now. The gateway answers it as Invalid (1.6) or
    NotAtThisTime (2.0.1), marked not to be kept in the charger's Authorization Cache: it
    says nothing lasting about the tag."""

    ACCEPTED = "Accepted"
    BLOCKED = "Blocked"
    EXPIRED = "Expired"
    INVALID = "Invalid"
    CONCURRENT_TX = "ConcurrentTx"
    HELD_FOR_OTHERS = "HeldForOthers"


@dataclass(frozen=True, slots=True)
class MeterSample:
    at: datetime
    energy_wh: float | None = None  # the register reading, not the session's energy
    power_w: float | None = None
    soc_percent: float | None = None


@dataclass(frozen=True, slots=True)
class ChargingSession:
    id: int  # also the OCPP 1.6 transactionId
    station_id: str
    evse_id: int
    connector_id: int | None
    id_tag: str | None
    started_at: datetime
    meter_start_wh: float
    external_id: str | None = None  # the station's transaction id (OCPP 2.0.1)
    reservation_id: int | None = None
    stopped_at: datetime | None = None
    meter_stop_wh: float | None = None
    energy_wh: float = 0.0
    power_w: float | None = None
    soc_percent: float | None = None
    last_sample_at: datetime | None = None
    last_seq_no: int | None = None
    stop_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.stopped_at is None

    @property
    def reference(self) -> str:
        """The id a station knows this session by."""
        return self.external_id or str(self.id)

    def with_samples(self, samples: list[MeterSample]) -> ChargingSession:
        """The session after newer samples; samples not newer than the last one change nothing."""
        session = self
        for sample in sorted(samples, key=lambda s: s.at):
            if session.last_sample_at is not None and sample.at <= session.last_sample_at:
                continue
            session = replace(
                session,
                last_sample_at=sample.at,
                energy_wh=(
                    max(0.0, sample.energy_wh - session.meter_start_wh)
                    if sample.energy_wh is not None
                    else session.energy_wh
                ),
                power_w=sample.power_w if sample.power_w is not None else session.power_w,
                soc_percent=(
                    sample.soc_percent if sample.soc_percent is not None else session.soc_percent
                ),
            )
        return session

    def stopped(
        self, at: datetime, meter_stop_wh: float | None, reason: str | None
    ) -> ChargingSession:
        energy = (
            max(0.0, meter_stop_wh - self.meter_start_wh)
            if meter_stop_wh is not None
            else self.energy_wh
        )
        return replace(
            self,
            stopped_at=at,
            meter_stop_wh=meter_stop_wh,
            energy_wh=energy,
            power_w=0.0,
            stop_reason=reason,
        )


@dataclass(frozen=True, slots=True)
class SessionFilter:
    """Which sessions an operator's listing shows; None matches all."""

    station_id: str | None = None
    id_tag: str | None = None
    driver_id: str | None = None  # sessions begun with any of the driver's id tokens
    since: datetime | None = None  # started at or after
    until: datetime | None = None  # started before
    active: bool | None = None
