"""A charge a driver starts from the app, as plain data, and the ports its use cases need.

The app asks; the charger decides. A start is `requested` until the charger answers the
remote start, then `plug_in` (it waits for the cable) or `starting` (the cable is in), and
`charging` only once the charger reports the transaction (1.6 StartTransaction, 2.0.1
TransactionEvent): an Accepted remote start alone starts nothing.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol

from voltbook.charging.model import ChargingSession
from voltbook.core.uow import UnitOfWork, UowFactory

# Connector states (1.6 words; 2.0.1 Occupied arrives as Preparing) a driver may start on:
# free, or with the driver's cable already in. Reserved only when the hold is the driver's.
STARTABLE = frozenset({"Available", "Preparing"})
# How long a charger may wait for the cable before voltbook calls the start failed (the
# 1.6 ConnectionTimeOut a charger uses is of this order).
PLUG_IN_WAIT = timedelta(minutes=3)


class ChargeState(StrEnum):
    REQUESTED = "requested"
    PLUG_IN = "plug_in"
    STARTING = "starting"
    CHARGING = "charging"
    STOPPING = "stopping"
    FINISHED = "finished"
    FAILED = "failed"

    @property
    def waiting(self) -> bool:
        """Asked for, and the charger has not reported a transaction yet."""
        return self in (ChargeState.REQUESTED, ChargeState.PLUG_IN, ChargeState.STARTING)

    @property
    def ended(self) -> bool:
        return self in (ChargeState.FINISHED, ChargeState.FAILED)


@dataclass(frozen=True, slots=True)
class AppCharge:
    """One start asked for from the app, and what became of it."""

    id: str
    driver_id: str
    station_id: str
    evse_id: int
    id_tag: str
    state: ChargeState
    created_at: datetime
    updated_at: datetime
    idempotency_key: str
    request_hash: str
    reason: str | None = None
    session_id: int | None = None  # the charging session, once the charger reported it

    def moved(self, state: ChargeState, at: datetime, reason: str | None = None) -> AppCharge:
        return replace(self, state=state, updated_at=at, reason=reason)

    def overdue(self, now: datetime) -> bool:
        """Still waiting for the charger after the plug-in time has passed."""
        return self.state.waiting and now - self.created_at > PLUG_IN_WAIT


@dataclass(frozen=True, slots=True)
class ChargeView:
    """A charge with the figures of its session and where it is, for the driver."""

    charge: AppCharge
    session: ChargingSession | None
    site_name: str | None
    address: str | None
    as_of: datetime  # when it was read: a running session's duration is up to this time

    @property
    def duration_s(self) -> float | None:
        if self.session is None:
            return None
        return ((self.session.stopped_at or self.as_of) - self.session.started_at).total_seconds()


def request_hash(station_id: str, evse_id: int) -> str:
    """What a repeated Idempotency-Key must come with to be the same request."""
    return hashlib.sha256(f"{station_id}\x00{evse_id}".encode()).hexdigest()[:32]


class AppChargeRepository(Protocol):
    async def add(self, charge: AppCharge) -> bool:
        """Store a new charge; False when the driver used its Idempotency-Key already."""
        ...

    async def get(self, charge_id: str) -> AppCharge | None: ...

    async def by_key(self, driver_id: str, idempotency_key: str) -> AppCharge | None: ...

    async def save(self, charge: AppCharge) -> None: ...

    async def waiting_for(
        self, station_id: str, evse_id: int, id_tag: str | None
    ) -> AppCharge | None:
        """The newest charge still waiting for this EVSE's transaction (with this tag, when
        one is given)."""
        ...

    async def of_session(self, session_id: int) -> AppCharge | None: ...

    async def of_driver(
        self, driver_id: str, before: datetime | None, limit: int
    ) -> list[AppCharge]:
        """The driver's charges, newest first, created before `before` when given."""
        ...

    async def session(self, session_id: int) -> ChargingSession | None: ...

    async def place(self, station_id: str) -> tuple[str | None, str | None]:
        """The name and address of the site the station stands at."""
        ...

    async def evse_status(self, station_id: str, evse_id: int) -> tuple[str, bool] | None:
        """(status of the EVSE's first connector, station online), None for no such EVSE."""
        ...

    async def app_token(self, driver_id: str) -> str:
        """The driver's app id token, made (and accepted) when the driver has none."""
        ...


class AppChargeUnitOfWork(UnitOfWork, Protocol):
    @property
    def app_charges(self) -> AppChargeRepository: ...


AppChargeUowFactory = UowFactory[AppChargeUnitOfWork]


class ChargerControl(Protocol):
    """Remote start and stop, answered with the charger's own status word."""

    async def remote_start(self, station_id: str, evse_id: int, id_tag: str) -> str | None:
        """Raises Unavailable (offline) or TimedOut (no answer)."""
        ...

    async def remote_stop(self, station_id: str, reference: str) -> str | None: ...

    async def held_for_others(self, station_id: str, evse_id: int, id_tag: str) -> bool:
        """Whether a reservation holds the EVSE for someone else now."""
        ...

    async def current(self, station_id: str, reference: str) -> ChargingSession | None:
        """The session's newest figures (a running one's are kept in memory between
        writes)."""
        ...
