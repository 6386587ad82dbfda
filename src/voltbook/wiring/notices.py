"""What the notices area hears from other areas: what drivers and operators are told.

Live channels hear a status change at once; notices (outbox writes, Web Push) are made by the
notices worker, in event order, so no station or booking waits for them.
"""

from __future__ import annotations

from typing import Any

from voltbook.alarms.events import AlarmAcknowledged, AlarmCleared, AlarmRaised
from voltbook.alarms.model import Alarm
from voltbook.core.worker import SerialWorker
from voltbook.notices.model import Urgency
from voltbook.notices.service import NoticeAsk, NoticeService
from voltbook.offers.events import OfferSent
from voltbook.reservations.events import (
    ReservationCancelled,
    ReservationCreated,
    ReservationEvent,
    ReservationExpired,
    ReservationFailed,
    ReservationFulfilled,
    ReservationHeld,
    ReservationMoved,
    ReservationStartingSoon,
)
from voltbook.stations.events import ConnectorStatusChanged
from voltbook.wiring.places import StationPlaces

# The `event` of a `reservation.updated` message: part of the live channel's public API,
# written out so that renaming a class never renames what the app receives.
RESERVATION_EVENT_NAMES: dict[type[ReservationEvent], str] = {
    ReservationCreated: "created",
    ReservationHeld: "held",
    ReservationMoved: "moved",
    ReservationStartingSoon: "starting_soon",
    ReservationExpired: "expired",
    ReservationCancelled: "cancelled",
    ReservationFailed: "failed",
    ReservationFulfilled: "fulfilled",
}
_URGENT = (
    ReservationMoved,
    ReservationFailed,
    ReservationExpired,
    ReservationStartingSoon,
    ReservationCancelled,
)


class NoticeReactions:
    def __init__(self, notices: NoticeService, places: StationPlaces, work: SerialWorker) -> None:
        self._notices = notices
        self._places = places
        self._later = work.submit
        self._work = work

    async def status_changed(self, event: ConnectorStatusChanged) -> None:
        broadcast = await self._notices.broadcast_status(
            event.station_id,
            event.evse_id,
            event.connector_id,
            event.status.value,
            event.at,
            await self._places.position(event.station_id),
        )
        self._later(lambda: self._notices.tell_followers(broadcast))

    async def reservation_changed(self, event: ReservationEvent) -> None:
        kind, payload, urgency = reservation_notice(event)
        # Notices of bookings made together are made together: one transaction.
        self._work.submit_item(
            self._notices.notify_each,
            NoticeAsk(event.reservation.driver_id, kind, payload, urgency),
        )

    async def alarm(self, event: AlarmRaised | AlarmCleared | AlarmAcknowledged) -> None:
        self._later(lambda: self._notices.to_staff(*alarm_notice(event.alarm)))

    async def offer_sent(self, event: OfferSent) -> None:
        payload = {
            "delivery_id": event.delivery_id,
            "offer_id": event.offer_id,
            "title": event.title,
            "kind": event.kind,
            "value": event.value,
            "station_id": event.station_id,
            "trigger": event.trigger,
            "ends_at": event.ends_at.isoformat(),
        }
        self._later(lambda: self._notices.notify(event.driver_id, "offer", payload, Urgency.NORMAL))


def reservation_notice(event: ReservationEvent) -> tuple[str, dict[str, Any], Urgency]:
    """The notice the owner of a reservation gets for one of its events."""
    r = event.reservation
    name = RESERVATION_EVENT_NAMES[type(event)]
    payload: dict[str, Any] = {
        "event": name,
        "reason": event.reason,
        "reservation": {
            "id": r.id,
            "status": r.status.value,
            "station_id": r.station_id,
            "evse_id": r.evse_id,
            "any_evse": r.any_evse,
            "starts_at": r.starts_at.isoformat(),
            "ends_at": r.ends_at.isoformat(),
        },
    }
    if r.alternatives:  # a failed booking: where else to charge
        payload["alternatives"] = [
            {"station_id": a.station_id, "name": a.name, "distance_m": round(a.distance_m)}
            for a in r.alternatives
        ]
    urgency = Urgency.HIGH if isinstance(event, _URGENT) else Urgency.NORMAL
    return "reservation.updated", payload, urgency


def alarm_notice(alarm: Alarm) -> tuple[str, dict[str, Any], Urgency]:
    payload = {
        "alarm": {
            "id": alarm.id,
            "station_id": alarm.station_id,
            "evse_id": alarm.evse_id,
            "connector_id": alarm.connector_id,
            "kind": alarm.kind.value,
            "code": alarm.code,
            "severity": alarm.severity.value,
            "raised_at": alarm.raised_at.isoformat(),
            "cleared_at": None if alarm.cleared_at is None else alarm.cleared_at.isoformat(),
            "acknowledged_at": (
                None if alarm.acknowledged_at is None else alarm.acknowledged_at.isoformat()
            ),
            "acknowledged_by": alarm.acknowledged_by,
        }
    }
    urgency = (
        Urgency.HIGH if alarm.active and alarm.severity.value == "critical" else Urgency.NORMAL
    )
    return "alarm", payload, urgency
