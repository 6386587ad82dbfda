"""OCPP 1.6J: what stations send, turned into use-case calls, and the answers they expect.

1.6 has no EVSE level: its connectorId numbers what voltbook calls an EVSE.
"""

from __future__ import annotations

from typing import Any

from voltbook.charging.model import Authorization
from voltbook.ocpp.context import Handler, StationContext
from voltbook.ocpp.meter import parse_time, samples
from voltbook.stations.model import ConnectorStatus


async def boot_notification(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    decision = await ctx.fleet.booted(
        ctx.station_id,
        p["chargePointVendor"],
        p["chargePointModel"],
        p.get("firmwareVersion"),
        "1.6",
    )
    return ctx.boot_answer(decision)


async def heartbeat(ctx: StationContext, _p: dict[str, Any]) -> dict[str, Any]:
    await ctx.fleet.heard_from(ctx.station_id)
    return {"currentTime": ctx.now_text()}


async def status_notification(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    error = p["errorCode"]
    at = parse_time(p["timestamp"]) if "timestamp" in p else None
    if p["connectorId"] == 0:
        # The charge point as a whole; connectors report their own status.
        if error != "NoError":
            await ctx.fleet.notice(ctx.station_id, "station-error", error)
        return {}
    await ctx.fleet.status_reported(
        ctx.station_id,
        p["connectorId"],
        None,
        ConnectorStatus(p["status"]),
        None if error == "NoError" else error,
        at,
    )
    return {}


def id_tag_info(ctx: StationContext, status: Authorization) -> dict[str, Any]:
    """1.6 idTagInfo. A tag refused only because reservations hold the connectors for others
    is answered Invalid, the one 1.6 refusal that states nothing lasting about the tag
    (Blocked and Expired describe the tag itself, ConcurrentTx a transaction it runs);
    1.6 has no status for "not now". Chargers keep the idTagInfo of an Authorize or a
    StartTransaction answer in their Authorization Cache, so the refusal carries an
    `expiryDate` of now, the time 1.6 gives for removing the tag from that cache: once the
    hold ends, the tag is asked about afresh instead of refused from the cache."""
    if status is Authorization.HELD_FOR_OTHERS:
        return {"status": Authorization.INVALID.value, "expiryDate": ctx.now_text()}
    return {"status": status.value}


async def authorize(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    status = await ctx.charging.authorize(ctx.station_id, p["idTag"])
    return {"idTagInfo": id_tag_info(ctx, status)}


async def start_transaction(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    session, status = await ctx.charging.start(
        ctx.station_id,
        p["connectorId"],
        None,
        p["idTag"],
        float(p["meterStart"]),
        parse_time(p["timestamp"]),
        reservation_id=p.get("reservationId"),
    )
    return {"transactionId": session.id, "idTagInfo": id_tag_info(ctx, status)}


async def stop_transaction(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    data = samples(p.get("transactionData", []))
    await ctx.charging.stop(
        ctx.station_id,
        str(p["transactionId"]),
        float(p["meterStop"]),
        parse_time(p["timestamp"]),
        p.get("reason", "Local"),
        data,
    )
    if "idTag" in p:  # the card that stopped it: its own standing, no reservation rule
        status = await ctx.charging.tag_status(p["idTag"])
        return {"idTagInfo": id_tag_info(ctx, status)}
    return {}


async def meter_values(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    found = samples(p["meterValue"])
    if "transactionId" in p:
        await ctx.charging.meter(ctx.station_id, str(p["transactionId"]), found)
    else:
        await ctx.fleet.heard_from(ctx.station_id)
    return {}


async def data_transfer(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.fleet.notice(ctx.station_id, "data-transfer", p["vendorId"])
    return {"status": "UnknownVendorId"}


async def diagnostics_status(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.fleet.notice(ctx.station_id, "diagnostics", p["status"])
    return {}


async def firmware_status(ctx: StationContext, p: dict[str, Any]) -> dict[str, Any]:
    await ctx.fleet.notice(ctx.station_id, "firmware", p["status"])
    return {}


HANDLERS: dict[str, Handler] = {
    "BootNotification": boot_notification,
    "Heartbeat": heartbeat,
    "StatusNotification": status_notification,
    "Authorize": authorize,
    "StartTransaction": start_transaction,
    "StopTransaction": stop_transaction,
    "MeterValues": meter_values,
    "DataTransfer": data_transfer,
    "DiagnosticsStatusNotification": diagnostics_status,
    "FirmwareStatusNotification": firmware_status,
}
