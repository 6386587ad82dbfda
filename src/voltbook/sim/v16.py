"""OCPP 1.6J behaviour: the station's messages and its answers to Central System commands.

1.6 has no EVSE level: each EVSE of the operator API is one 1.6 connector, numbered by its
EVSE id. Transaction ids come from the server; a transaction started while offline uses a
provisional negative id until its StartTransaction is answered, and the queued MeterValues
and StopTransaction built after that carry the real one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from voltbook.sim.credentials import AUTHORIZATION_KEY, StationPassword
from voltbook.sim.local_list import v16_configuration, v16_handlers
from voltbook.sim.model import (
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
    V16_CODES,
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
ERROR_CODES: Final = frozenset(
    {
        "ConnectorLockFailure",
        "EVCommunicationError",
        "GroundFailure",
        "HighTemperature",
        "InternalError",
        "LocalListConflict",
        "OtherError",
        "OverCurrentFailure",
        "OverVoltage",
        "PowerMeterFailure",
        "PowerSwitchFailure",
        "ReaderFailure",
        "ResetFailure",
        "UnderVoltage",
        "WeakSignal",
    }
)
TRIGGERABLE: Final = frozenset(
    {"BootNotification", "Heartbeat", "StatusNotification", "MeterValues"}
)

Getter = Callable[[], str]
Setter = Callable[[str], object]


class V16:
    subprotocol = "ocpp1.6"
    codes = V16_CODES

    def __init__(self, station: StationCore, password: StationPassword | None = None) -> None:
        self.station = station
        self.password = password or StationPassword(station.id, station.spec.password)
        self._provisional_id = 0
        self._handlers: dict[str, Callable[[JsonObject], Reply]] = {
            "GetConfiguration": self._get_configuration,
            "ChangeConfiguration": self._change_configuration,
            "ChangeAvailability": self._change_availability,
            "Reset": self._reset,
            "UnlockConnector": self._unlock_connector,
            "RemoteStartTransaction": self._remote_start,
            "RemoteStopTransaction": self._remote_stop,
            "ReserveNow": self._reserve_now,
            "CancelReservation": self._cancel_reservation,
            "ClearCache": self._clear_cache,
            "TriggerMessage": self._trigger_message,
            "DataTransfer": lambda _payload: Reply({"status": "UnknownVendorId"}),
        } | v16_handlers(station.local_list)
        self._config = self._configuration()

    # -- messages the station sends -----------------------------------------------------------

    def boot_request(self, reason: str) -> JsonObject:
        return {
            "chargePointVendor": "voltbook",
            "chargePointModel": self.station.model,
            "chargePointSerialNumber": f"SIM-{self.station.id}"[:25],
            "firmwareVersion": FIRMWARE,
        }

    def status_key(self, connector: Connector) -> str:
        return f"{connector.status}/{connector.fault or 'NoError'}"

    def status_notifications(self, connector: Connector) -> list[JsonObject]:
        payload: JsonObject = {
            "connectorId": connector.evse_id,
            "errorCode": "NoError",
            "status": connector.status,
            "timestamp": rfc3339(),
        }
        if connector.fault is not None:
            known = connector.fault in ERROR_CODES
            payload["errorCode"] = connector.fault if known else "OtherError"
            if not known:
                payload["vendorErrorCode"] = connector.fault[:50]
        return [payload]

    def authorize_request(self, id_tag: str, token_type: str) -> JsonObject:
        return {"idTag": id_tag}

    def authorize_status(self, answer: JsonObject) -> str:
        info = answer.get("idTagInfo")
        return str(info.get("status", "Invalid")) if isinstance(info, dict) else "Invalid"

    def new_transaction_id(self) -> int:
        self._provisional_id -= 1
        return self._provisional_id

    def transaction_started(self, session: Session, sample: Sample) -> None:
        payload: JsonObject = {
            "connectorId": session.evse_id,
            "idTag": session.id_tag,
            "meterStart": session.meter_start_wh,
            "timestamp": sample.timestamp,
        }
        if session.reservation_id is not None:
            payload["reservationId"] = session.reservation_id

        def started(answer: JsonObject) -> None:
            transaction_id = answer.get("transactionId")
            if isinstance(transaction_id, int) and not isinstance(transaction_id, bool):
                session.transaction_id = transaction_id
            if self.authorize_status(answer) != "Accepted":
                self.station.deauthorize(session)

        self.station.outbox.submit(
            "StartTransaction", lambda _offline: payload, durable=True, on_result=started
        ).add_done_callback(consume)

    def transaction_updated(self, session: Session, sample: Sample, trigger: str) -> None:
        if trigger == "ChargingStateChanged":
            return  # the StatusNotification SuspendedEV says it in 1.6
        value = self._meter_value(sample)
        self.station.outbox.submit(
            "MeterValues",
            lambda _offline: {
                "connectorId": session.evse_id,
                "transactionId": session.transaction_id,
                "meterValue": [value],
            },
            durable=True,
        ).add_done_callback(consume)

    def transaction_ended(self, session: Session, sample: Sample) -> None:
        value = self._meter_value(sample)
        self.station.outbox.submit(
            "StopTransaction",
            lambda _offline: {
                "transactionId": session.transaction_id,
                "idTag": session.id_tag,
                "meterStop": round(sample.energy_wh),
                "timestamp": sample.timestamp,
                "reason": session.stop_reason or "Local",
                "transactionData": [value],
            },
            durable=True,
        ).add_done_callback(consume)

    def reservation_ended(self, reservation: Reservation, status: str) -> None:
        """1.6 has no message for this: the StatusNotification Available says it."""

    def meter_values(self, connector: Connector, sample: Sample) -> JsonObject:
        return {"connectorId": connector.evse_id, "meterValue": [self._meter_value(sample)]}

    def _meter_value(self, sample: Sample) -> JsonObject:
        return {
            "timestamp": sample.timestamp,
            "sampledValue": [
                {
                    "value": format_number(value),
                    "context": sample.context,
                    "measurand": measurand,
                    "location": location,
                    "unit": unit,
                }
                for measurand, value, unit, location in readings(
                    sample, self.station.settings.measurands
                )
            ],
        }

    # -- commands from the Central System -----------------------------------------------------

    async def handle(self, action: str, payload: JsonObject) -> Reply:
        handler = self._handlers.get(action)
        if handler is None:
            raise CallError("NotImplemented", f"{action} is not supported")
        return handler(payload)

    def call_bytes(self, action: str) -> int | None:
        return None  # 1.6 states no byte limits

    def _configuration(self) -> dict[str, tuple[Getter, Setter | None]]:
        station, settings = self.station, self.station.settings

        return {
            "HeartbeatInterval": (
                lambda: format_number(settings.heartbeat_interval),
                lambda t: station.set_heartbeat_interval(parse_positive_int(t)),
            ),
            "MeterValueSampleInterval": (
                lambda: format_number(settings.meter_interval),
                lambda t: setattr(settings, "meter_interval", parse_positive_int(t)),
            ),
            "ConnectionTimeOut": (
                lambda: str(settings.connection_timeout),
                lambda t: setattr(settings, "connection_timeout", parse_positive_int(t)),
            ),
            "NumberOfConnectors": (lambda: str(len(station.connectors)), None),
            "ReserveConnectorZeroSupported": (lambda: "true", None),
            "AuthorizeRemoteTxRequests": flag(settings, "authorize_remote"),
            "LocalPreAuthorize": flag(settings, "local_pre_authorize"),
            "LocalAuthorizeOffline": flag(settings, "local_authorize_offline"),
            "StopTransactionOnInvalidId": flag(settings, "stop_on_invalid_id"),
            "AuthorizationCacheEnabled": (lambda: "true", None),
            "MeterValuesSampledData": (
                lambda: ",".join(settings.measurands),
                lambda t: setattr(settings, "measurands", parse_measurands(t)),
            ),
            "MeterValuesSampledDataMaxLength": (lambda: "5", None),
            "SupportedFeatureProfiles": (
                lambda: "Core,Reservation,RemoteTrigger,LocalAuthListManagement",
                None,
            ),
            # write-only: never read back
            AUTHORIZATION_KEY: (lambda: "", self.password.set_hex),
        } | v16_configuration(station.local_list)

    def _get_configuration(self, payload: JsonObject) -> Reply:
        keys = optional_value(payload, "key", list)
        readable = {k: v for k, v in self._config.items() if k != AUTHORIZATION_KEY}
        wanted = list(readable) if not keys else [str(key) for key in keys]
        known = [
            {"key": key, "readonly": readable[key][1] is None, "value": readable[key][0]()}
            for key in wanted
            if key in readable
        ]
        unknown = [key[:50] for key in wanted if key not in readable]
        answer: JsonObject = {"configurationKey": known}
        if unknown:
            answer["unknownKey"] = unknown
        return Reply(answer)

    def _change_configuration(self, payload: JsonObject) -> Reply:
        key = field_value(payload, "key", str)
        value = field_value(payload, "value", str)
        if key not in self._config:
            return Reply({"status": "NotSupported"})
        apply = self._config[key][1]
        if apply is None:
            return Reply({"status": "Rejected"})
        try:
            apply(value)
        except ValueError:
            return Reply({"status": "Rejected"})
        self.station.emit(f"configuration {key} changed")
        return Reply({"status": "Accepted"}, after=self.password.reconnect_after_answer())

    def _change_availability(self, payload: JsonObject) -> Reply:
        connector_id = field_value(payload, "connectorId", int)
        kind = field_value(payload, "type", str)
        if kind not in ("Operative", "Inoperative"):
            raise CallError("PropertyConstraintViolation", f"type {kind!r}")
        status = self.station.change_availability(connector_id, kind == "Operative")
        return Reply({"status": status})

    def _reset(self, payload: JsonObject) -> Reply:
        kind = field_value(payload, "type", str)
        if kind not in ("Hard", "Soft"):
            raise CallError("PropertyConstraintViolation", f"type {kind!r}")
        return Reply({"status": self.station.reset(f"{kind}Reset")})

    def _unlock_connector(self, payload: JsonObject) -> Reply:
        connector = self.station.connectors.get(field_value(payload, "connectorId", int))
        if connector is None:
            return Reply({"status": "NotSupported"})
        if connector.session is not None:
            connector.session.request_stop("UnlockCommand")
        self.station.unplug(connector)
        return Reply({"status": "Unlocked"})

    def _remote_start(self, payload: JsonObject) -> Reply:
        id_tag = field_value(payload, "idTag", str)
        connector_id = optional_value(payload, "connectorId", int)
        if connector_id is not None and connector_id <= 0:
            return Reply({"status": "Rejected"})
        claim = self.station.remote_start(connector_id, id_tag, "Central")
        if claim is None:
            return Reply({"status": "Rejected"})
        return Reply({"status": "Accepted"}, after=claim[1])

    def _remote_stop(self, payload: JsonObject) -> Reply:
        stopped = self.station.remote_stop(field_value(payload, "transactionId", int))
        return Reply({"status": "Accepted" if stopped else "Rejected"})

    def _reserve_now(self, payload: JsonObject) -> Reply:
        connector_id = field_value(payload, "connectorId", int)
        reservation = Reservation(
            id=field_value(payload, "reservationId", int),
            evse_id=connector_id or None,
            id_tag=field_value(payload, "idTag", str),
            expires_at=parse_rfc3339(field_value(payload, "expiryDate", str)),
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
        connector_id = optional_value(payload, "connectorId", int)
        station = self.station
        if message not in TRIGGERABLE:
            return Reply({"status": "NotImplemented"})
        if connector_id and connector_id not in station.connectors:
            return Reply({"status": "Rejected"})

        async def send() -> None:
            if message == "BootNotification":
                station.outbox.send("BootNotification", self.boot_request("Triggered"))
            elif message == "Heartbeat":
                station.outbox.send("Heartbeat", {})
            elif message == "StatusNotification":
                station.trigger_status(connector_id)
            else:
                station.trigger_meter_values(connector_id)

        return Reply({"status": "Accepted"}, after=send)
