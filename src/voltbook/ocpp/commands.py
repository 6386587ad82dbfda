"""The operator's version-neutral commands as OCPP 1.6 and 2.0.1 requests."""

from __future__ import annotations

from typing import Any

from voltbook.core.errors import InvalidInput
from voltbook.ocpp.protocol import Version
from voltbook.stations.commands import (
    CancelReservation,
    ChangeAvailability,
    ChangeConfiguration,
    ClearCache,
    Command,
    GetBaseReport,
    GetConfiguration,
    GetLocalListVersion,
    RemoteStart,
    RemoteStop,
    ReserveNow,
    Reset,
    SendLocalList,
    SetStationPassword,
    TriggerMessage,
    UnlockConnector,
)


def _time(command: ReserveNow) -> str:
    return command.expires_at.isoformat(timespec="seconds").replace("+00:00", "Z")


# 1.6 security whitepaper: AuthorizationKey is the Basic-auth password, hex-encoded (at most
# 20 bytes, 40 hex digits); 2.0.1 takes the password itself in SecurityCtrlr.BasicAuthPassword.
AUTHORIZATION_KEY = "AuthorizationKey"
BASIC_AUTH_PASSWORD = ("SecurityCtrlr", "BasicAuthPassword")


def _variable(key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """'Component.Variable' (2.0.1 addressing); a bare 1.6-style key goes nowhere useful."""
    component, _, variable = key.partition(".")
    if not variable:
        raise InvalidInput(
            "a 2.0.1 key is Component.Variable, e.g. OCPPCommCtrlr.HeartbeatInterval"
        )
    return {"name": component}, {"name": variable}


def to_v16(command: Command) -> tuple[str, dict[str, Any]]:  # noqa: PLR0912 - one case a command
    match command:
        case GetConfiguration(keys=keys):
            return "GetConfiguration", ({"key": list(keys)} if keys else {})
        case TriggerMessage(message=message, evse_id=evse):
            payload: dict[str, Any] = {"requestedMessage": message}
            if evse is not None:
                payload["connectorId"] = evse
            return "TriggerMessage", payload
        case ChangeConfiguration(key=key, value=value):
            return "ChangeConfiguration", {"key": key, "value": value}
        case SetStationPassword(password=password):
            return "ChangeConfiguration", {
                "key": AUTHORIZATION_KEY,
                "value": password.encode().hex().upper(),
            }
        case ChangeAvailability(operative=operative, evse_id=evse):
            kind = "Operative" if operative else "Inoperative"
            return "ChangeAvailability", {"connectorId": evse or 0, "type": kind}
        case Reset(hard=hard):
            return "Reset", {"type": "Hard" if hard else "Soft"}
        case UnlockConnector(evse_id=evse):
            return "UnlockConnector", {"connectorId": evse}
        case RemoteStart(id_tag=tag, evse_id=evse):
            payload = {"idTag": tag}
            if evse is not None:
                payload["connectorId"] = evse
            return "RemoteStartTransaction", payload
        case RemoteStop(transaction_id=transaction):
            if not transaction.isdigit():
                raise InvalidInput("a 1.6 transaction id is a number")
            return "RemoteStopTransaction", {"transactionId": int(transaction)}
        case ReserveNow(reservation_id=rid, id_tag=tag, evse_id=evse):
            return "ReserveNow", {
                "connectorId": evse or 0,
                "expiryDate": _time(command),
                "idTag": tag,
                "reservationId": rid,
            }
        case CancelReservation(reservation_id=rid):
            return "CancelReservation", {"reservationId": rid}
        case ClearCache():
            return "ClearCache", {}
        case SendLocalList(version=version, full=full, entries=entries):
            return "SendLocalList", {
                "listVersion": version,
                "updateType": "Full" if full else "Differential",
                "localAuthorizationList": [
                    {"idTag": e.id_tag} | ({"idTagInfo": {"status": e.status}} if e.status else {})
                    for e in entries
                ],
            }
        case GetLocalListVersion():
            return "GetLocalListVersion", {}
        case GetBaseReport():
            raise InvalidInput(
                "GetBaseReport is OCPP 2.0.1; a 1.6 station answers get_configuration"
            )
    raise InvalidInput(f"unknown command {type(command).__name__}")


def to_v201(command: Command) -> tuple[str, dict[str, Any]]:  # noqa: PLR0912 - one case a command
    match command:
        case GetConfiguration(keys=keys):
            if not keys:
                raise InvalidInput("2.0.1 stations need the Component.Variable names to read")
            return "GetVariables", {
                "getVariableData": [
                    {"component": c, "variable": v} for c, v in map(_variable, keys)
                ]
            }
        case TriggerMessage(message=message, evse_id=evse):
            payload: dict[str, Any] = {"requestedMessage": message}
            if evse is not None:
                payload["evse"] = {"id": evse}
            return "TriggerMessage", payload
        case ChangeConfiguration(key=key, value=value):
            component, variable = _variable(key)
            return "SetVariables", {
                "setVariableData": [
                    {"attributeValue": value, "component": component, "variable": variable}
                ]
            }
        case SetStationPassword(password=password):
            return "SetVariables", {
                "setVariableData": [
                    {
                        "attributeValue": password,
                        "component": {"name": BASIC_AUTH_PASSWORD[0]},
                        "variable": {"name": BASIC_AUTH_PASSWORD[1]},
                    }
                ]
            }
        case ChangeAvailability(operative=operative, evse_id=evse):
            payload = {"operationalStatus": "Operative" if operative else "Inoperative"}
            if evse:
                payload["evse"] = {"id": evse}
            return "ChangeAvailability", payload
        case Reset(hard=hard):
            return "Reset", {"type": "Immediate" if hard else "OnIdle"}
        case UnlockConnector(evse_id=evse, connector_id=connector):
            return "UnlockConnector", {"evseId": evse, "connectorId": connector}
        case RemoteStart(id_tag=tag, evse_id=evse, remote_start_id=remote_id):
            payload = {"idToken": {"idToken": tag, "type": "Central"}, "remoteStartId": remote_id}
            if evse is not None:
                payload["evseId"] = evse
            return "RequestStartTransaction", payload
        case RemoteStop(transaction_id=transaction):
            return "RequestStopTransaction", {"transactionId": transaction}
        case ReserveNow(reservation_id=rid, id_tag=tag, evse_id=evse):
            payload = {
                "id": rid,
                "expiryDateTime": _time(command),
                "idToken": {"idToken": tag, "type": "Central"},
            }
            if evse is not None:
                payload["evseId"] = evse
            return "ReserveNow", payload
        case CancelReservation(reservation_id=rid):
            return "CancelReservation", {"reservationId": rid}
        case ClearCache():
            return "ClearCache", {}
        case SendLocalList(version=version, full=full, entries=entries):
            payload = {"versionNumber": version, "updateType": "Full" if full else "Differential"}
            if entries:  # 2.0.1 wants the list left out rather than empty
                payload["localAuthorizationList"] = [
                    {"idToken": {"idToken": e.id_tag, "type": e.token_type}}
                    | ({"idTokenInfo": {"status": e.status}} if e.status else {})
                    for e in entries
                ]
            return "SendLocalList", payload
        case GetLocalListVersion():
            return "GetLocalListVersion", {}
    raise InvalidInput(f"unknown command {type(command).__name__}")


def to_ocpp(command: Command, version: Version) -> tuple[str, dict[str, Any]]:
    return to_v16(command) if version is Version.V16 else to_v201(command)


def status_of(response: dict[str, Any]) -> str | None:
    """The station's status word, wherever the message keeps it."""
    if isinstance(response.get("status"), str):
        return str(response["status"])
    for key in ("getVariableResult", "setVariableResult"):
        results = response.get(key)
        if isinstance(results, list) and results:
            statuses = {r.get("attributeStatus") for r in results}
            return statuses.pop() if len(statuses) == 1 else "Mixed"
    if "configurationKey" in response or "unknownKey" in response:
        return "Accepted"
    return None
