"""OCPP 2.0.1 behaviour: the station's messages and its answers to CSMS commands.

Transactions are TransactionEvent Started/Updated/Ended with a station-made UUID and a
seqNo per transaction; events queued while offline are sent later with `offline: true`.
Configuration is a small device model of components and variables.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from voltbook.sim.credentials import StationPassword
from voltbook.sim.device_model import CONNECTOR_TYPES, DeviceModel, connector_status
from voltbook.sim.local_list import v201_handlers
from voltbook.sim.model import (
    PLUGGED_AFTER,
    Connector,
    Reservation,
    Sample,
    Session,
    parse_rfc3339,
    readings,
    rfc3339,
)
from voltbook.sim.rpc import (
    V201_CODES,
    CallError,
    JsonObject,
    Reply,
    consume,
    field_value,
    optional_value,
)

if TYPE_CHECKING:
    from voltbook.sim.station import StationCore

FIRMWARE: Final = "voltbook-sim 1.0"
# Internal (1.6-worded) stop reason -> (triggerReason, stoppedReason).
STOPS: Final = {
    "Local": ("StopAuthorized", "Local"),
    "Remote": ("RemoteStop", "Remote"),
    "EVDisconnected": ("EVCommunicationLost", "EVDisconnected"),
    "SoftReset": ("ResetCommand", "ImmediateReset"),
    "HardReset": ("ResetCommand", "ImmediateReset"),
    "UnlockCommand": ("UnlockCommand", "Other"),
    "DeAuthorized": ("Deauthorized", "DeAuthorized"),
    "Other": ("AbnormalCondition", "Other"),
}
TRIGGERABLE: Final = frozenset(
    {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues", "TransactionEvent"}
)


class V201:
    subprotocol = "ocpp2.0.1"
    codes = V201_CODES

    def __init__(self, station: StationCore, password: StationPassword | None = None) -> None:
        self.station = station
        self._device_model = DeviceModel(station, password)
        self._handlers: dict[str, Callable[[JsonObject], Reply]] = {
            "GetVariables": self._device_model.get_variables,
            "SetVariables": self._device_model.set_variables,
            "GetBaseReport": self._get_base_report,
            "ChangeAvailability": self._change_availability,
            "Reset": self._reset,
            "UnlockConnector": self._unlock_connector,
            "RequestStartTransaction": self._request_start,
            "RequestStopTransaction": self._request_stop,
            "ReserveNow": self._reserve_now,
            "CancelReservation": self._cancel_reservation,
            "ClearCache": self._clear_cache,
            "TriggerMessage": self._trigger_message,
            "DataTransfer": lambda _payload: Reply({"status": "UnknownVendorId"}),
        } | v201_handlers(station.local_list)

    # -- messages the station sends -----------------------------------------------------------

    def boot_request(self, reason: str) -> JsonObject:
        return {
            "reason": reason,
            "chargingStation": {
                "model": self.station.model,
                "vendorName": "voltbook",
                "firmwareVersion": FIRMWARE,
                "serialNumber": f"SIM-{self.station.id}"[:25],
            },
        }

    def status_key(self, connector: Connector) -> str:
        return connector_status(connector.status)

    def status_notifications(self, connector: Connector) -> list[JsonObject]:
        timestamp = rfc3339()
        return [
            {
                "timestamp": timestamp,
                "connectorStatus": connector_status(connector.status),
                "evseId": connector.evse_id,
                "connectorId": connector_id,
            }
            for connector_id in connector.connector_ids
        ]

    def authorize_request(self, id_tag: str, token_type: str) -> JsonObject:
        return {"idToken": {"idToken": id_tag, "type": token_type}}

    def authorize_status(self, answer: JsonObject) -> str:
        info = answer.get("idTokenInfo")
        return str(info.get("status", "Invalid")) if isinstance(info, dict) else "Invalid"

    def new_transaction_id(self) -> str:
        return str(uuid.uuid4())

    def transaction_started(self, session: Session, sample: Sample) -> None:
        info: JsonObject = {"transactionId": session.transaction_id, "chargingState": "Charging"}
        remote = session.remote_start_id is not None
        if remote:
            info["remoteStartId"] = session.remote_start_id
        payload = self._event(session, "Started", "RemoteStart" if remote else "Authorized", sample)
        payload["transactionInfo"] = info
        payload["idToken"] = {"idToken": session.id_tag, "type": session.token_type}
        payload["evse"] = {"id": session.evse_id, "connectorId": session.connector_id}
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id
        self._submit(session, payload)

    def transaction_updated(self, session: Session, sample: Sample, trigger: str) -> None:
        payload = self._event(session, "Updated", trigger, sample)
        state = "SuspendedEV" if session.phase == "SuspendedEV" else "Charging"
        payload["transactionInfo"] = {
            "transactionId": session.transaction_id,
            "chargingState": state,
        }
        self._submit(session, payload)

    def transaction_ended(self, session: Session, sample: Sample) -> None:
        trigger, stopped = STOPS.get(session.stop_reason or "Local", ("AbnormalCondition", "Other"))
        if session.stop_reason == "Other" and session.fault_code == "GroundFailure":
            stopped = "GroundFault"
        payload = self._event(session, "Ended", trigger, sample)
        payload["transactionInfo"] = {
            "transactionId": session.transaction_id,
            "chargingState": "EVConnected" if session.stop_reason in PLUGGED_AFTER else "Idle",
            "stoppedReason": stopped,
        }
        if trigger == "StopAuthorized":
            payload["idToken"] = {"idToken": session.id_tag, "type": session.token_type}
        self._submit(session, payload)

    def _event(self, session: Session, kind: str, trigger: str, sample: Sample) -> JsonObject:
        return {
            "eventType": kind,
            "timestamp": sample.timestamp,
            "triggerReason": trigger,
            "seqNo": session.next_seq_no(),
            "meterValue": [self._meter_value(sample)],
        }

    def _submit(self, session: Session, payload: JsonObject) -> None:
        def answered(answer: JsonObject) -> None:
            if "idTokenInfo" in answer and self.authorize_status(answer) != "Accepted":
                self.station.deauthorize(session)

        self.station.outbox.submit(
            "TransactionEvent",
            lambda offline: {**payload, "offline": True} if offline else payload,
            durable=True,
            on_result=answered,
        ).add_done_callback(consume)

    def reservation_ended(self, reservation: Reservation, status: str) -> None:
        self.station.outbox.send(
            "ReservationStatusUpdate",
            {"reservationId": reservation.id, "reservationUpdateStatus": status},
        )

    def meter_values(self, connector: Connector, sample: Sample) -> JsonObject:
        return {"evseId": connector.evse_id, "meterValue": [self._meter_value(sample)]}

    def _meter_value(self, sample: Sample) -> JsonObject:
        return {
            "timestamp": sample.timestamp,
            "sampledValue": [
                {
                    "value": value,
                    "context": sample.context,
                    "measurand": measurand,
                    "location": location,
                    "unitOfMeasure": {"unit": unit},
                }
                for measurand, value, unit, location in readings(
                    sample, self.station.settings.measurands
                )
            ],
        }

    # -- commands from the CSMS ---------------------------------------------------------------

    async def handle(self, action: str, payload: JsonObject) -> Reply:
        handler = self._handlers.get(action)
        if handler is None:
            raise CallError("NotImplemented", f"{action} is not supported")
        return handler(payload)

    def call_bytes(self, action: str) -> int | None:
        return self.station.local_list.bytes_per_message if action == "SendLocalList" else None

    def _change_availability(self, payload: JsonObject) -> Reply:
        operational = field_value(payload, "operationalStatus", str)
        if operational not in ("Operative", "Inoperative"):
            raise CallError("PropertyConstraintViolation", f"operationalStatus {operational!r}")
        evse = optional_value(payload, "evse", dict)
        evse_id = field_value(evse, "id", int) if evse is not None else None
        status = self.station.change_availability(evse_id, operational == "Operative")
        return Reply({"status": status})

    def _reset(self, payload: JsonObject) -> Reply:
        kind = field_value(payload, "type", str)
        if kind not in ("Immediate", "OnIdle"):
            raise CallError("PropertyConstraintViolation", f"type {kind!r}")
        evse_id = optional_value(payload, "evseId", int)
        if evse_id:  # resetting one EVSE: end its transaction, no reboot
            if evse_id not in self.station.connectors:
                return Reply({"status": "Rejected"})
            session = self.station.sessions.get(evse_id)
            if session is not None and kind == "OnIdle":
                return Reply({"status": "Scheduled"})
            if session is not None:
                session.request_stop("HardReset")
            return Reply({"status": "Accepted"})
        if kind == "Immediate":
            return Reply({"status": self.station.reset("HardReset")})
        return Reply({"status": self.station.reset("SoftReset", when_idle=True)})

    def _unlock_connector(self, payload: JsonObject) -> Reply:
        connector = self.station.connectors.get(field_value(payload, "evseId", int))
        connector_id = field_value(payload, "connectorId", int)
        if connector is None or connector_id not in connector.connector_ids:
            return Reply({"status": "UnknownConnector"})
        if connector.session is not None:
            return Reply({"status": "OngoingAuthorizedTransaction"})
        self.station.unplug(connector)
        return Reply({"status": "Unlocked"})

    def _request_start(self, payload: JsonObject) -> Reply:
        token = field_value(payload, "idToken", dict)
        claim = self.station.remote_start(
            optional_value(payload, "evseId", int),
            field_value(token, "idToken", str),
            field_value(token, "type", str),
            field_value(payload, "remoteStartId", int),
        )
        if claim is None:
            return Reply({"status": "Rejected"})
        transaction_id, start = claim
        return Reply({"status": "Accepted", "transactionId": transaction_id}, after=start)

    def _request_stop(self, payload: JsonObject) -> Reply:
        stopped = self.station.remote_stop(field_value(payload, "transactionId", str))
        return Reply({"status": "Accepted" if stopped else "Rejected"})

    def _reserve_now(self, payload: JsonObject) -> Reply:
        token = field_value(payload, "idToken", dict)
        wanted = optional_value(payload, "connectorType", str)
        reservation = Reservation(
            id=field_value(payload, "id", int),
            evse_id=optional_value(payload, "evseId", int) or None,
            id_tag=field_value(token, "idToken", str),
            token_type=field_value(token, "type", str),
            expires_at=parse_rfc3339(field_value(payload, "expiryDateTime", str)),
            standards=CONNECTOR_TYPES.get(wanted) if wanted else None,
        )
        return Reply({"status": self.station.reserve(reservation)})

    def _cancel_reservation(self, payload: JsonObject) -> Reply:
        cancelled = self.station.cancel_reservation(field_value(payload, "reservationId", int))
        return Reply({"status": "Accepted" if cancelled else "Rejected"})

    def _clear_cache(self, _payload: JsonObject) -> Reply:
        self.station.auth_cache.clear()
        return Reply({"status": "Accepted"})

    def _get_base_report(self, payload: JsonObject) -> Reply:
        request_id = field_value(payload, "requestId", int)
        base = field_value(payload, "reportBase", str)
        if base not in ("FullInventory", "ConfigurationInventory", "SummaryInventory"):
            raise CallError("PropertyConstraintViolation", f"reportBase {base!r}")
        parts = self._device_model.report(request_id, base)

        async def send() -> None:
            for part in parts:
                self.station.outbox.send("NotifyReport", part)

        return Reply({"status": "Accepted"}, after=send)

    def _trigger_message(self, payload: JsonObject) -> Reply:
        message = field_value(payload, "requestedMessage", str)
        evse = optional_value(payload, "evse", dict)
        evse_id = field_value(evse, "id", int) if evse is not None else None
        station = self.station
        if message not in TRIGGERABLE:
            return Reply({"status": "NotImplemented"})
        if evse_id and evse_id not in station.connectors:
            return Reply({"status": "Rejected"})
        targets = [c for c in station.connectors.values() if not evse_id or c.evse_id == evse_id]

        async def send() -> None:
            if message == "BootNotification":
                station.outbox.send("BootNotification", self.boot_request("Triggered"))
            elif message == "Heartbeat":
                station.outbox.send("Heartbeat", {})
            elif message == "StatusNotification":
                station.trigger_status(evse_id)
            for connector in targets:
                sample = station.sample(connector, "Trigger")
                if message == "MeterValues":
                    station.outbox.send("MeterValues", self.meter_values(connector, sample))
                elif message == "TransactionEvent" and connector.session is not None:
                    self.transaction_updated(connector.session, sample, "Trigger")

        return Reply({"status": "Accepted"}, after=send)
