"""Version-neutral commands an operator sends to a station, and the station's answer."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class GetConfiguration:
    """Query: configuration keys (1.6) or variables (2.0.1); empty means all (1.6)."""

    keys: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class GetBaseReport:
    """Query (2.0.1): the station's whole configuration (FullInventory) or its settable part
    (ConfigurationInventory), reported in NotifyReport parts that the gateway puts together."""

    report_base: str = "FullInventory"


@dataclass(frozen=True, slots=True)
class TriggerMessage:
    """Query: ask the station to send a message now."""

    message: str  # BootNotification, Heartbeat, StatusNotification, MeterValues, …
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class ChangeConfiguration:
    """Setting: one configuration key (1.6) or Component.Variable (2.0.1)."""

    key: str
    value: str


@dataclass(frozen=True, slots=True)
class SetStationPassword:
    """Setting: the password the station connects with from now on (HTTP Basic, OCPP
    security profile 1/2). How it is said depends on the version, which the gateway knows."""

    password: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class ChangeAvailability:
    """Setting: take an EVSE (or the whole station when evse_id is None) in or out of service."""

    operative: bool
    evse_id: int | None = None


@dataclass(frozen=True, slots=True)
class Reset:
    hard: bool = False


@dataclass(frozen=True, slots=True)
class UnlockConnector:
    evse_id: int
    connector_id: int = 1


@dataclass(frozen=True, slots=True)
class RemoteStart:
    id_tag: str
    evse_id: int | None = None
    remote_start_id: int = 0


@dataclass(frozen=True, slots=True)
class RemoteStop:
    transaction_id: str


@dataclass(frozen=True, slots=True)
class ReserveNow:
    reservation_id: int
    id_tag: str
    expires_at: datetime
    evse_id: int | None = None  # None: any EVSE of the station


@dataclass(frozen=True, slots=True)
class HoldConnector:
    """Hold a connector for a booking until `expires_at`: the EVSE booked, or (`any_evse`)
    any fitting one of the station where the charger can keep one free. How that is said
    depends on the station's OCPP version, which only the OCPP gateway knows."""

    reservation_id: int
    id_tag: str
    expires_at: datetime
    evse_id: int
    any_evse: bool = False


@dataclass(frozen=True, slots=True)
class CancelReservation:
    reservation_id: int


@dataclass(frozen=True, slots=True)
class ClearCache:
    pass


@dataclass(frozen=True, slots=True)
class LocalListEntry:
    """One card of an authorization list; status None removes it (differential update)."""

    id_tag: str
    status: str | None
    # 2.0.1 IdTokenEnumType: ISO14443 for cards, Central for app tokens
    token_type: str = "ISO14443"  # noqa: S105 - a kind of token, not a secret


@dataclass(frozen=True, slots=True)
class SendLocalList:
    version: int
    full: bool
    entries: tuple[LocalListEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class GetLocalListVersion:
    """Query: the version of the station's local authorization list (its answer's `reading`
    holds `version`, an int, or nothing when the station did not say)."""


@dataclass(frozen=True, slots=True)
class GetLocalListLimits:
    """Query: whether the station keeps a local authorization list, and what it can take. The
    configuration that says so differs between OCPP versions; the answer's `reading` holds
    `enabled` (bool) and, where the station said, `max_entries`, `per_message`,
    `bytes_per_message` and `max_token_length` (ints)."""


Command = (
    GetConfiguration
    | GetBaseReport
    | HoldConnector
    | TriggerMessage
    | ChangeConfiguration
    | SetStationPassword
    | ChangeAvailability
    | Reset
    | UnlockConnector
    | RemoteStart
    | RemoteStop
    | ReserveNow
    | CancelReservation
    | ClearCache
    | SendLocalList
    | GetLocalListVersion
    | GetLocalListLimits
)


@dataclass(frozen=True, slots=True)
class CommandAnswer:
    """What the station said: its status word and its whole answer, as it sent it; and for
    the queries whose answer reads differently by OCPP version, what it means (`reading`)."""

    action: str
    status: str | None
    response: dict[str, Any] = field(default_factory=dict)
    reading: dict[str, Any] = field(default_factory=dict)
