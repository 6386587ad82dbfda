"""OCPP 2.0.1 behaviour: the station's messages and its answers to CSMS commands.

Transactions are TransactionEvent Started/Updated/Ended with a station-made UUID and a
seqNo per transaction; events queued while offline are sent later with `offline: true`.
Configuration is a small device model of components and variables.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from voltbook.sim.local_list import v201_handlers, v201_variables
from voltbook.sim.model import (
    PLUGGED_AFTER,
    Connector,
    Reservation,
    Sample,
    Session,
    flag,
    format_number,
    parse_measurands,
    parse_positive_int,
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
# 2.0.1 ConnectorEnumType -> the operator API's (OCPI) connector standards.
CONNECTOR_TYPES: Final[dict[str, frozenset[str]]] = {
    "cType1": frozenset({"IEC_62196_T1"}),
    "cCCS1": frozenset({"IEC_62196_T1_COMBO"}),
    "cType2": frozenset({"IEC_62196_T2"}),
    "sType2": frozenset({"IEC_62196_T2"}),
    "cCCS2": frozenset({"IEC_62196_T2_COMBO"}),
    "cG105": frozenset({"CHADEMO"}),
    "cTesla": frozenset({"TESLA_S", "TESLA_R"}),
    "cChaoJi": frozenset({"CHAOJI"}),
    "cGBT": frozenset({"GBT_AC", "GBT_DC"}),
    "sType3": frozenset({"IEC_62196_T3A", "IEC_62196_T3C"}),
    "s309-1P-16A": frozenset({"IEC_60309_2_single_16"}),
    "s309-3P-16A": frozenset({"IEC_60309_2_three_16"}),
    "s309-3P-32A": frozenset({"IEC_60309_2_three_32"}),
    "Pan": frozenset({"PANTOGRAPH_BOTTOM_UP", "PANTOGRAPH_TOP_DOWN"}),
}
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

Getter = Callable[[], str]
Setter = Callable[[str], object]


def connector_status(status: str) -> str:
    """A 1.6 ChargePointStatus (the station's own words) as a 2.0.1 ConnectorStatus."""
    return status if status in ("Available", "Reserved", "Unavailable", "Faulted") else "Occupied"


def connector_type(standard: str) -> str:
    return next((name for name, group in CONNECTOR_TYPES.items() if standard in group), "Unknown")


class V201:
    subprotocol = "ocpp2.0.1"
    codes = V201_CODES

    def __init__(self, station: StationCore) -> None:
        self.station = station
        self._handlers: dict[str, Callable[[JsonObject], Reply]] = {
            "GetVariables": self._get_variables,
            "SetVariables": self._set_variables,
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
        self._variables = self._device_model()

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

    def _device_model(self) -> dict[tuple[str, str], tuple[Getter, Setter | None]]:
        station, settings = self.station, self.station.settings
        true: Getter = lambda: "true"  # noqa: E731
        return {
            ("OCPPCommCtrlr", "HeartbeatInterval"): (
                lambda: format_number(settings.heartbeat_interval),
                lambda t: station.set_heartbeat_interval(parse_positive_int(t)),
            ),
            ("SampledDataCtrlr", "TxUpdatedInterval"): (
                lambda: format_number(settings.meter_interval),
                lambda t: setattr(settings, "meter_interval", parse_positive_int(t)),
            ),
            ("SampledDataCtrlr", "TxUpdatedMeasurands"): (
                lambda: ",".join(settings.measurands),
                lambda t: setattr(settings, "measurands", parse_measurands(t)),
            ),
            ("TxCtrlr", "EVConnectionTimeOut"): (
                lambda: str(settings.connection_timeout),
                lambda t: setattr(settings, "connection_timeout", parse_positive_int(t)),
            ),
            ("TxCtrlr", "StopTxOnInvalidId"): flag(settings, "stop_on_invalid_id"),
            ("AuthCtrlr", "AuthorizeRemoteStart"): flag(settings, "authorize_remote"),
            ("AuthCtrlr", "LocalPreAuthorize"): flag(settings, "local_pre_authorize"),
            ("AuthCtrlr", "LocalAuthorizeOffline"): flag(settings, "local_authorize_offline"),
            ("AuthCacheCtrlr", "Enabled"): (true, None),
            ("ReservationCtrlr", "Enabled"): (true, None),
            ("ReservationCtrlr", "Available"): (true, None),
            ("ReservationCtrlr", "NonEvseSpecific"): (true, None),
            ("ChargingStation", "Available"): (true, None),
            ("ChargingStation", "VendorName"): (lambda: "voltbook", None),
            ("ChargingStation", "Model"): (lambda: station.model, None),
            ("ChargingStation", "EVSECount"): (lambda: str(len(station.connectors)), None),
            ("ChargingStation", "AvailabilityState"): (
                lambda: (
                    "Available"
                    if any(c.operative for c in station.connectors.values())
                    else "Unavailable"
                ),
                None,
            ),
        } | v201_variables(station.local_list)

    def _lookup(
        self, component: JsonObject, variable: JsonObject
    ) -> tuple[str, Getter | None, Setter | None]:
        """(status, getter, setter); status is Accepted, UnknownComponent or UnknownVariable."""
        name = field_value(component, "name", str)
        variable_name = field_value(variable, "name", str)
        evse = component.get("evse")
        if name in ("EVSE", "Connector") and isinstance(evse, dict):
            connector = self.station.connectors.get(field_value(evse, "id", int))
            connector_id = optional_value(evse, "connectorId", int)
            if connector is None or (
                name == "Connector" and connector_id not in connector.connector_ids
            ):
                return "UnknownComponent", None, None
            getter = self._evse_variable(connector, name, variable_name, connector_id)
            return ("Accepted", getter, None) if getter else ("UnknownVariable", None, None)
        if not any(known == name for known, _ in self._variables):
            return "UnknownComponent", None, None
        entry = self._variables.get((name, variable_name))
        if entry is None:
            return "UnknownVariable", None, None
        return "Accepted", entry[0], entry[1]

    def _evse_variable(
        self, connector: Connector, component: str, variable: str, connector_id: int | None
    ) -> Getter | None:
        if variable == "AvailabilityState":
            return lambda: connector_status(connector.status)
        if component == "EVSE" and variable == "Power":
            return lambda: format_number(connector.max_power_kw * 1000)
        if component == "Connector" and variable == "ConnectorType" and connector_id is not None:
            index = connector.connector_ids.index(connector_id)
            return lambda: connector_type(connector.standards[index])
        return None

    def _get_variables(self, payload: JsonObject) -> Reply:
        results: list[JsonObject] = []
        for item in field_value(payload, "getVariableData", list):
            component = field_value(item, "component", dict)
            variable = field_value(item, "variable", dict)
            attribute = optional_value(item, "attributeType", str) or "Actual"
            result: JsonObject = {"component": component, "variable": variable}
            status, getter, _ = self._lookup(component, variable)
            if status == "Accepted" and attribute != "Actual":
                status = "NotSupportedAttributeType"
            result["attributeStatus"] = status
            result["attributeType"] = attribute
            if status == "Accepted" and getter is not None:
                result["attributeValue"] = getter()
            results.append(result)
        return Reply({"getVariableResult": results})

    def _set_variables(self, payload: JsonObject) -> Reply:
        results: list[JsonObject] = []
        for item in field_value(payload, "setVariableData", list):
            component = field_value(item, "component", dict)
            variable = field_value(item, "variable", dict)
            value = field_value(item, "attributeValue", str)
            attribute = optional_value(item, "attributeType", str) or "Actual"
            status, _, setter = self._lookup(component, variable)
            if status == "Accepted" and attribute != "Actual":
                status = "NotSupportedAttributeType"
            elif status == "Accepted":
                status = self._apply(setter, value)
                if status == "Accepted":
                    self.station.emit(f"variable {component['name']}.{variable['name']} = {value}")
            results.append(
                {
                    "attributeType": attribute,
                    "attributeStatus": status,
                    "component": component,
                    "variable": variable,
                }
            )
        return Reply({"setVariableResult": results})

    @staticmethod
    def _apply(setter: Setter | None, value: str) -> str:
        if setter is None:
            return "Rejected"  # read-only
        try:
            setter(value)
        except ValueError:
            return "Rejected"
        return "Accepted"

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
