"""The simulator's model: station specs and options, connectors, sessions, reservations
(with the ReserveNow rules both versions share) and small helpers for OCPP values."""

from __future__ import annotations

import asyncio
import random
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from voltbook.sim.physics import Charge, charger_power_kw
from voltbook.sim.rpc import JsonObject, Reply, RpcCodes

RFID = "ISO14443"  # 2.0.1 IdTokenEnumType of a driver's card
# Stop reasons, in OCPP 1.6 words; v201 maps them. After these the cable is still plugged
# in, so the connector shows Finishing until the driver unplugs.
PLUGGED_AFTER = frozenset({"Local", "Remote", "DeAuthorized"})
SUPPORTED_MEASURANDS = (
    "Energy.Active.Import.Register",
    "Power.Active.Import",
    "SoC",
    "Current.Import",
    "Voltage",
)


@dataclass
class SimulatedTime:
    """The time the simulated chargers read: real time, or in a city simulation the server's
    faster time (`origin` at the real Unix instant `anchor`, `scale` times faster)."""

    scale: float = 1.0
    origin: datetime | None = None
    anchor: float = 0.0

    def now(self) -> datetime:
        if self.origin is None:
            return datetime.now(UTC)
        return self.origin + timedelta(seconds=(time.time() - self.anchor) * self.scale)


_TIME = SimulatedTime()


def use_simulated_time(scale: float, origin: datetime | None, anchor: float) -> None:
    """Make every simulated charger of this process read the server's scaled time (the
    numbers the server was started with); their timers for bookings follow it. An origin
    of None goes back to real time."""
    _TIME.scale, _TIME.origin, _TIME.anchor = scale, origin, anchor


def time_scale() -> float:
    return _TIME.scale


def now_utc() -> datetime:
    return _TIME.now()


def rfc3339(moment: datetime | None = None) -> str:
    """An RFC 3339 UTC timestamp with milliseconds and a Z, as OCPP wants."""
    moment = (moment or now_utc()).astimezone(UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_rfc3339(text: str) -> datetime:
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def random_id_tag(rng: random.Random) -> str:
    return "SIM-" + "".join(rng.choices(string.digits + "ABCDEF", k=6))


def same_tag(left: str, right: str) -> bool:
    """Identifiers are case-insensitive (OCPP CiString)."""
    return left.casefold() == right.casefold()


@dataclass(frozen=True)
class ConnectorSpec:
    evse_id: int
    connector_id: int = 1
    standard: str = "IEC_62196_T1"
    power_type: str = "AC"
    max_power_kw: float | None = None


@dataclass(frozen=True)
class StationSpec:
    id: str
    password: str
    connectors: tuple[ConnectorSpec, ...] = (ConnectorSpec(1),)


@dataclass(frozen=True)
class SimOptions:
    version: str = "1.6"  # "1.6" or "2.0.1"
    session_rate: float = 2.0  # mean new sessions per station per hour (0 = none)
    meter_interval: float = 15.0  # seconds between MeterValues / TransactionEvent Updated
    heartbeat_interval: float | None = None  # cap on the server's heartbeat interval
    speed: float = 1.0  # simulated seconds per real second, for the physics
    id_tags: tuple[str, ...] = ()  # empty: three random tags per station
    seed: int | None = None
    control_port: int = 0  # 0: no control server
    auto_stop: bool = True  # drivers leave on their own (off in tests)
    call_timeout: float = 30.0
    reconnect_base: float = 1.0
    reconnect_cap: float = 30.0
    reboot_delay: float = 2.0
    local_list_items: int = 4  # entries a SendLocalList may hold (ItemsPerMessage)
    local_list_bytes: int = 4000  # 2.0.1 BytesPerMessage: the longest SendLocalList frame
    on_event: Callable[[str, str], None] | None = None  # (station id, text)


@dataclass
class Settings:
    """Configuration the server can read and change (GetConfiguration / GetVariables)."""

    heartbeat_interval: float
    meter_interval: float
    connection_timeout: int = 60
    authorize_remote: bool = False
    local_pre_authorize: bool = False
    local_authorize_offline: bool = True
    stop_on_invalid_id: bool = True
    measurands: tuple[str, ...] = SUPPORTED_MEASURANDS[:3]


@dataclass(frozen=True)
class Sample:
    timestamp: str
    context: str
    energy_wh: float
    power_w: float
    soc: float | None
    voltage: float


@dataclass(eq=False)
class Reservation:
    id: int
    evse_id: int | None  # None: any connector of the station
    id_tag: str
    expires_at: datetime
    token_type: str = RFID
    standards: frozenset[str] | None = None  # 2.0.1 connectorType, as API standards
    timer: asyncio.TimerHandle | None = field(default=None, repr=False)


@dataclass(eq=False)
class Session:
    evse_id: int
    connector_id: int
    id_tag: str
    token_type: str
    transaction_id: int | str  # 1.6: provisional (negative) until the server assigns one
    charge: Charge
    meter_start_wh: int
    started_at: datetime
    departure_s: float  # simulated seconds after the start when the driver leaves
    remote_start_id: int | None = None
    reservation_id: int | None = None
    phase: str = "Preparing"  # 1.6 words: Preparing, Charging, SuspendedEV
    elapsed_s: float = 0.0
    seq_no: int = 0
    stop_reason: str | None = None
    fault_code: str | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)
    ended: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    def request_stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        self.wake.set()

    def next_seq_no(self) -> int:
        self.seq_no += 1
        return self.seq_no - 1

    @property
    def energy_wh(self) -> float:
        return self.charge.energy_wh


@dataclass(eq=False)
class Connector:
    """One EVSE (a 1.6 connector): its plugs, state and lifetime energy register."""

    evse_id: int
    connector_ids: tuple[int, ...]
    standards: tuple[str, ...]
    power_type: str
    max_power_kw: float
    meter_wh: float
    operative: bool = True
    pending_inoperative: bool = False
    fault: str | None = None
    session: Session | None = None
    reservation: Reservation | None = None
    plugged: bool = False  # the cable is still in after the transaction ended
    busy: bool = False  # a start is being authorized
    reported: str | None = field(default=None, repr=False)

    @property
    def status(self) -> str:
        """The OCPP 1.6 ChargePointStatus (v201 maps it to a ConnectorStatus)."""
        if self.fault is not None:
            return "Faulted"
        if self.session is not None:
            return self.session.phase
        if self.plugged:
            return "Finishing"
        if not self.operative:
            return "Unavailable"
        if self.reservation is not None:
            return "Reserved"
        return "Available"


class Behaviour(Protocol):
    """What an OCPP version adds to the shared station (see v16.py and v201.py)."""

    subprotocol: str
    codes: RpcCodes

    def boot_request(self, reason: str) -> JsonObject: ...
    def status_key(self, connector: Connector) -> str: ...
    def status_notifications(self, connector: Connector) -> list[JsonObject]: ...
    def authorize_request(self, id_tag: str, token_type: str) -> JsonObject: ...
    def authorize_status(self, answer: JsonObject) -> str: ...
    def new_transaction_id(self) -> int | str: ...
    def transaction_started(self, session: Session, sample: Sample) -> None: ...
    def transaction_updated(self, session: Session, sample: Sample, trigger: str) -> None: ...
    def transaction_ended(self, session: Session, sample: Sample) -> None: ...
    def reservation_ended(self, reservation: Reservation, status: str) -> None: ...
    def meter_values(self, connector: Connector, sample: Sample) -> JsonObject: ...
    async def handle(self, action: str, payload: JsonObject) -> Reply: ...
    def call_bytes(self, action: str) -> int | None: ...  # the longest CALL frame it takes


def build_connectors(spec: StationSpec, rng: random.Random) -> dict[int, Connector]:
    """Group the API's connectors by EVSE; each EVSE gets a rating and a meter register."""
    grouped: dict[int, list[ConnectorSpec]] = {}
    for plug in spec.connectors:
        grouped.setdefault(plug.evse_id, []).append(plug)
    connectors: dict[int, Connector] = {}
    for evse_id in sorted(grouped):
        plugs = sorted(grouped[evse_id], key=lambda plug: plug.connector_id)
        dc = [plug for plug in plugs if plug.power_type.upper().startswith("DC")]
        main = dc[0] if dc else plugs[0]
        ratings = [plug.max_power_kw for plug in plugs if plug.max_power_kw]
        connectors[evse_id] = Connector(
            evse_id=evse_id,
            connector_ids=tuple(plug.connector_id for plug in plugs),
            standards=tuple(plug.standard for plug in plugs),
            power_type="DC" if dc else "AC",
            max_power_kw=charger_power_kw(main.power_type, max(ratings, default=None), rng),
            meter_wh=float(rng.randint(100_000, 5_000_000)),
        )
    return connectors


def describe(value: Any) -> str:
    """A short, human text for an exception or value in a status line."""
    if isinstance(value, BaseException):
        text = str(value)
        return f"{type(value).__name__}: {text}" if text else type(value).__name__
    return str(value)


class ReservationRules:
    """ReserveNow / CancelReservation semantics; `StationCore` (station.py) mixes it in."""

    connectors: dict[int, Connector]
    reservations: dict[int, Reservation]
    behaviour: Behaviour

    def publish(self, connector: Connector, *, force: bool = False) -> None: ...
    def emit(self, text: str) -> None: ...

    def reserve(self, reservation: Reservation) -> str:
        """ReserveNow: Accepted, Faulted, Occupied, Unavailable or Rejected."""
        old = self.reservations.get(reservation.id)
        if old is not None:  # the same id replaces the reservation
            self._drop_reservation(old)
            if old.evse_id is not None:
                self.publish(self.connectors[old.evse_id])
        delay = (reservation.expires_at - now_utc()).total_seconds()
        if delay <= 0:
            return "Rejected"
        if reservation.evse_id is None:
            status = self._reservable_any(reservation)
        elif reservation.evse_id not in self.connectors:
            status = "Rejected"
        else:
            status = self._reservable(self.connectors[reservation.evse_id], reservation)
        if status != "Accepted":
            return status
        self.reservations[reservation.id] = reservation
        reservation.timer = asyncio.get_running_loop().call_later(
            delay / time_scale(), self._expire, reservation.id
        )
        if reservation.evse_id is not None:
            connector = self.connectors[reservation.evse_id]
            connector.reservation = reservation
            self.publish(connector)
        where = f"EVSE {reservation.evse_id}" if reservation.evse_id else "any EVSE"
        self.emit(f"reservation {reservation.id} on {where} for {reservation.id_tag}")
        return status

    def _matches_type(self, connector: Connector, reservation: Reservation) -> bool:
        wanted = reservation.standards
        return wanted is None or any(standard in wanted for standard in connector.standards)

    def _reservable(self, connector: Connector, reservation: Reservation) -> str:
        if connector.fault is not None:
            return "Faulted"
        if not connector.operative or connector.pending_inoperative:
            return "Unavailable"
        if connector.session is not None or connector.plugged or connector.busy:
            return "Occupied"
        if connector.reservation is not None or not self._matches_type(connector, reservation):
            return "Rejected"
        if len(self._free()) - 1 < len(self._any_reservations()):
            return "Occupied"  # the last free EVSEs are kept for "any EVSE" reservations
        return "Accepted"

    def _reservable_any(self, reservation: Reservation) -> str:
        fits = [c for c in self.connectors.values() if self._matches_type(c, reservation)]
        if not fits:
            return "Rejected"
        free = [c for c in self._free() if c in fits]
        if len(free) > len(self._any_reservations()):
            return "Accepted"
        if all(c.fault is not None for c in fits):
            return "Faulted"
        if all(not c.operative for c in fits):
            return "Unavailable"
        return "Occupied"

    def _free(self) -> list[Connector]:
        return [c for c in self.connectors.values() if c.status == "Available" and not c.busy]

    def _any_reservations(self, except_tag: str | None = None) -> list[Reservation]:
        return [
            r
            for r in self.reservations.values()
            if r.evse_id is None and (except_tag is None or not same_tag(r.id_tag, except_tag))
        ]

    def cancel_reservation(self, reservation_id: int) -> bool:
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            return False
        self._drop_reservation(reservation)
        if reservation.evse_id is not None:
            self.publish(self.connectors[reservation.evse_id])
        self.emit(f"reservation {reservation_id} cancelled")
        return True

    def _drop_reservation(self, reservation: Reservation) -> None:
        if reservation.timer is not None:
            reservation.timer.cancel()
        self.reservations.pop(reservation.id, None)
        if reservation.evse_id is not None:
            connector = self.connectors[reservation.evse_id]
            if connector.reservation is reservation:
                connector.reservation = None

    def _expire(self, reservation_id: int) -> None:
        reservation = self.reservations.get(reservation_id)
        if reservation is None:
            return
        self._drop_reservation(reservation)
        if reservation.evse_id is not None:
            self.publish(self.connectors[reservation.evse_id])
        self.behaviour.reservation_ended(reservation, "Expired")
        self.emit(f"reservation {reservation_id} expired")

    def _remove_reservation(self, reservation: Reservation) -> None:
        self._drop_reservation(reservation)
        self.behaviour.reservation_ended(reservation, "Removed")


def readings(sample: Sample, measurands: tuple[str, ...]) -> list[tuple[str, float, str, str]]:
    """(measurand, value, unit, location) for each configured measurand the sample has."""
    values: list[tuple[str, float, str, str]] = []
    for measurand in measurands:
        if measurand == "Energy.Active.Import.Register":
            values.append((measurand, round(sample.energy_wh), "Wh", "Outlet"))
        elif measurand == "Power.Active.Import":
            values.append((measurand, round(sample.power_w), "W", "Outlet"))
        elif measurand == "SoC" and sample.soc is not None:
            values.append((measurand, round(sample.soc, 1), "Percent", "EV"))
        elif measurand == "Current.Import":
            values.append((measurand, round(sample.power_w / sample.voltage, 1), "A", "Outlet"))
        elif measurand == "Voltage":
            values.append((measurand, round(sample.voltage, 1), "V", "Outlet"))
    if not values:
        values.append(("Energy.Active.Import.Register", round(sample.energy_wh), "Wh", "Outlet"))
    return values


def format_number(value: float) -> str:
    """1800 -> "1800", 0.5 -> "0.5": integers without a decimal point."""
    return str(int(value)) if float(value).is_integer() else str(round(value, 3))


def parse_positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise ValueError(text)
    return value


def parse_bool(text: str) -> bool:
    lowered = text.strip().lower()
    if lowered not in ("true", "false"):
        raise ValueError(text)
    return lowered == "true"


def parse_measurands(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(",") if name.strip())
    if not names or any(name not in SUPPORTED_MEASURANDS for name in names):
        raise ValueError(text)
    return names


def flag(settings: Settings, name: str) -> tuple[Callable[[], str], Callable[[str], object]]:
    """Getter and setter of a boolean setting as OCPP's "true"/"false"."""

    def get() -> str:
        return "true" if getattr(settings, name) else "false"

    def put(text: str) -> None:
        setattr(settings, name, parse_bool(text))

    return get, put
