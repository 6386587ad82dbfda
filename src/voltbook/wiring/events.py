"""THE event table: which area acts on which other area's event.

Areas never import each other; one area's event reaches another area's use case through a
row here. Read a row as "when <event> happens, <handlers> act on it". All handlers of one event
run concurrently; a failing one is logged and counted and does not stop the others (see
`wiring.table`). A new area adds its reactions class (in a module named after the area, in this
package), a field in `Reactions`, and its rows below.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from voltbook.alarms.events import AlarmAcknowledged, AlarmCleared, AlarmRaised
from voltbook.charging.events import (
    SessionIdentified,
    SessionSocMeasured,
    SessionStarted,
    SessionStopped,
)
from voltbook.drivers.events import ConsentsChanged, DriverRegistered, SignInsEnded
from voltbook.idtokens.events import IdTokenChanged
from voltbook.notices.events import NoticeQueued, StationStatusBroadcast
from voltbook.offers.events import OfferRedeemed, OfferSent
from voltbook.reservations.events import ReservationEvent
from voltbook.stations.events import (
    ChargerHoldEnded,
    ConnectorStatusChanged,
    StationBooted,
    StationConnected,
    StationDisconnected,
    StationPasswordChanged,
)
from voltbook.wiring.alarms import AlarmReactions
from voltbook.wiring.charging import AppChargingReactions
from voltbook.wiring.drivers import AccountReactions, VehicleReactions
from voltbook.wiring.history import CredentialReactions, HistoryReactions
from voltbook.wiring.idtokens import IdTokenReactions
from voltbook.wiring.notices import NoticeReactions
from voltbook.wiring.offers import OfferReactions
from voltbook.wiring.reservations import ReservationReactions
from voltbook.wiring.table import Table
from voltbook.wiring.telemetry import TelemetryReactions


class LiveFeed(Protocol):
    """The live channel's side: it pushes notices and status broadcasts to open apps."""

    async def on_notice(self, event: object) -> None: ...

    async def on_station_status(self, event: object) -> None: ...


@dataclass(frozen=True, slots=True)
class Reactions:
    """Every area's reactions to other areas' events, built by bootstrap."""

    alarms: AlarmReactions
    reservations: ReservationReactions
    offers: OfferReactions
    notices: NoticeReactions
    vehicles: VehicleReactions
    live: LiveFeed
    accounts: AccountReactions
    app_charging: AppChargingReactions
    id_tokens: IdTokenReactions
    history: HistoryReactions
    telemetry: TelemetryReactions
    credentials: CredentialReactions


def event_table(r: Reactions) -> Table:
    return {
        ConnectorStatusChanged: (
            r.alarms.connector_status,
            r.reservations.connector_lost,
            r.offers.connector_status,
            r.notices.status_changed,
            r.app_charging.status_changed,
            r.history.connector_status,
        ),
        StationConnected: (
            r.alarms.station_online,
            r.reservations.station_back,
            r.history.station_online,
        ),
        StationDisconnected: (r.alarms.station_offline, r.history.station_offline),
        StationBooted: (r.id_tokens.station_booted,),
        ChargerHoldEnded: (r.reservations.hold_ended,),
        SessionStarted: (
            r.reservations.session_started,
            r.offers.session_started,
            r.app_charging.started,
        ),
        # Identified after it began (2.0.1, cable first): counts as started with its tag.
        SessionIdentified: (
            r.reservations.session_started,
            r.offers.session_started,
            r.app_charging.started,
        ),
        SessionSocMeasured: (r.vehicles.soc_measured,),
        SessionStopped: (r.vehicles.session_stopped, r.app_charging.stopped),
        ReservationEvent: (r.notices.reservation_changed, r.telemetry.booking),
        AlarmRaised: (r.notices.alarm,),
        AlarmCleared: (r.notices.alarm,),
        AlarmAcknowledged: (r.notices.alarm,),
        OfferSent: (r.notices.offer_sent, r.telemetry.offer_sent),
        OfferRedeemed: (r.telemetry.offer_redeemed,),
        NoticeQueued: (r.live.on_notice,),
        StationStatusBroadcast: (r.live.on_station_status,),
        SignInsEnded: (r.accounts.sign_ins_ended,),
        ConsentsChanged: (r.offers.consents_changed,),
        DriverRegistered: (r.app_charging.registered,),
        IdTokenChanged: (r.id_tokens.token_changed,),
        StationPasswordChanged: (r.credentials.password_changed,),
    }
