"""OCPP 2.0.1: what stations send, turned into use-case calls, and the answers they expect."""

from __future__ import annotations

from typing import Any

from voltbook.charging.model import Authorization
from voltbook.ocpp.context import Handler, StationContext
from voltbook.ocpp.meter import last_energy_wh, parse_time, samples
from voltbook.stations.events import HoldEnd
from voltbook.stations.model import ConnectorStatus

# 2.0.1 connector states onto the 1.6 vocabulary voltbook keeps; Occupied is refined by
# the transaction's chargingState.
_CONNECTOR_STATUS = {
    "Available": ConnectorStatus.AVAILABLE,
    "Occupied": ConnectorStatus.PREPARING,
    "Reserved": ConnectorStatus.RESERVED,
    "Unavailable": ConnectorStatus.UNAVAILABLE,
    "Faulted": ConnectorStatus.FAULTED,
}
_CHARGING_STATE = {
    "Charging": ConnectorStatus.CHARGING,
    "EVConnected": ConnectorStatus.PREPARING,
    "SuspendedEV": ConnectorStatus.SUSPENDED_EV,
    "SuspendedEVSE": ConnectorStatus.SUSPENDED_EVSE,
}
# 2.0.1 AuthorizationStatus names that 1.6 lacks map to the nearest 1.6 outcome.
_TO_201 = {
    Authorization.ACCEPTED: "Accepted",
    Authorization.BLOCKED: "Blocked",
    Authorization.EXPIRED: "Expired",
    Authorization.INVALID: "Invalid",
    Authorization.CONCURRENT_TX: "ConcurrentTx",
    Authorization.HELD_FOR_OTHERS: "NotAtThisTime",  # 2.0.1 has the word 1.6 lacks
}
_RESERVATION_ENDS = {"Expired": HoldEnd.EXPIRED, "Removed": HoldEnd.REMOVED}


def id_token_info(ctx: StationContext, status: Authorization) -> dict[str, Any]:
    """2.0.1 idTokenInfo. A tag refused only because reservations hold the connectors for
    others is NotAtThisTime with `cacheExpiryDateTime` now: the charger must not keep that
    refusal in its Authorization Cache past this moment, as it holds only while the hold
    lasts."""
    info: dict[str, Any] = {"status": _TO_201[status]}
    if status is Authorization.HELD_FOR_OTHERS:
        info["cacheExpiryDateTime"] = ctx.now_text()
    return info


async def boot_notification(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    station = p["chargingStation"]
    decision = await ctx.fleet.booted(
        ctx.station_id,
        station["vendorName"],
        station["model"],
        station.get("firmwareVersion"),
        "2.0.1",
    )
    return ctx.boot_answer(decision)


async def heartbeat(ctx: StationContext, _p: dict[str, Any]) -> dict[str, Any]:
    await ctx.fleet.heard_from(ctx.station_id)
    return {"currentTime": ctx.now_text()}


async def status_notification(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    status = _CONNECTOR_STATUS[p["connectorStatus"]]
    await ctx.fleet.status_reported(
        ctx.station_id,
        p["evseId"],
        p["connectorId"],
        status,
        None,
        parse_time(p["timestamp"]),
    )
    return {}


async def authorize(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    status = await ctx.charging.authorize(ctx.station_id, p["idToken"]["idToken"])
    return {"idTokenInfo": id_token_info(ctx, status)}


async def transaction_event(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    info = p["transactionInfo"]
    reference = info["transactionId"]
    at = parse_time(p["timestamp"])
    found = samples(p.get("meterValue", []))
    id_tag = p.get("idToken", {}).get("idToken")
    evse = p.get("evse", {})
    session = await ctx.charging.get(ctx.station_id, reference)
    authorization: Authorization | None = None
    if session is None:
        # Started, or the first event we hear of a transaction begun while offline.
        energy = last_energy_wh(found)
        session, authorization = await ctx.charging.start(
            ctx.station_id,
            evse.get("id", 0),
            evse.get("connectorId"),
            id_tag,
            energy if energy is not None and p["eventType"] == "Started" else 0.0,
            at,
            reservation_id=p.get("reservationId"),
            external_id=reference,
        )
    elif id_tag is not None:
        # The driver identified after the transaction began (cable first): the same rules
        # as at a start; a refusal makes the station stop the transaction.
        authorization = await ctx.charging.identify(ctx.station_id, reference, id_tag, at)
    if p["eventType"] == "Ended":
        await ctx.charging.stop(
            ctx.station_id,
            reference,
            last_energy_wh(found),
            at,
            info.get("stoppedReason", "Local"),
            found,
        )
    elif found or p["eventType"] == "Updated":
        await ctx.charging.meter(ctx.station_id, reference, found, seq_no=p["seqNo"])
    state = _CHARGING_STATE.get(info.get("chargingState", ""))
    if state is not None and session.evse_id:
        await ctx.fleet.status_reported(
            ctx.station_id, session.evse_id, session.connector_id, state, None, at
        )
    if id_tag is None or authorization is None:
        return {}  # no idToken, nothing to answer about: its rules apply when it comes
    return {"idTokenInfo": id_token_info(ctx, authorization)}


async def meter_values(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    samples(p["meterValue"])  # checks the values; readings outside a transaction are not kept
    await ctx.fleet.heard_from(ctx.station_id)
    return {}


async def notify_event(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    for event in p["eventData"][:20]:
        component = event.get("component", {}).get("name", "?")
        variable = event.get("variable", {}).get("name", "?")
        await ctx.fleet.notice(
            ctx.station_id, "event", f"{component}.{variable}={event.get('actualValue', '')}"
        )
    return {}


async def reservation_status_update(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    """The charger ended a hold itself: its own expiry, or removed (a fault, an operator at
    the station). Reservations decide what that means for the booking; an id the charger
    holds for no booking of voltbook's is no error, the answer is the same."""
    await ctx.fleet.notice(
        ctx.station_id,
        "reservation",
        f"{p['reservationId']}:{p['reservationUpdateStatus']}",
    )
    await ctx.fleet.hold_ended(
        ctx.station_id, p["reservationId"], _RESERVATION_ENDS[p["reservationUpdateStatus"]]
    )
    return {}


async def notify_report(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    """A part of a report asked for with GetBaseReport; put together per connection."""
    if ctx.reports is not None:
        ctx.reports.part(p)
    await ctx.fleet.heard_from(ctx.station_id)
    return {}


async def security_event(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.fleet.notice(ctx.station_id, "security", p["type"])
    return {}


HANDLERS: dict[str, Handler] = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "TransactionEvent": transaction_event,
    "MeterValues": meter_values,
    "NotifyEvent": notify_event,
    "ReservationStatusUpdate": reservation_status_update,
    "SecurityEventNotification": security_event,
    "NotifyReport": notify_report,
}
