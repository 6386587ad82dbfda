"""Every malformed frame gets the CALLERROR code of its version, never a CALLRESULT, and the
station stays connected."""

from __future__ import annotations

import secrets

import httpx
import pytest

from tests.e2e.ocpp_client import connect

Headers = dict[str, str]
NOW = "2026-11-26T10:00:00Z"

# (frame, expected message id, 1.6 code, 2.0.1 code)
CASES: list[tuple[str, str, str, str]] = [
    ("this is not json", "-1", "FormationViolation", "RpcFrameworkError"),
    ('{"a": 1}', "-1", "FormationViolation", "RpcFrameworkError"),
    ("[]", "-1", "FormationViolation", "RpcFrameworkError"),
    ('["2", "x1", "Heartbeat", {}]', "x1", "FormationViolation", "RpcFrameworkError"),
    ('[7, "x2", "Heartbeat", {}]', "x2", "FormationViolation", "MessageTypeNotSupported"),
    ('[2, 42, "Heartbeat", {}]', "-1", "FormationViolation", "RpcFrameworkError"),
    ('[2, "x3", "Heartbeat"]', "x3", "FormationViolation", "FormatViolation"),
    ('[2, "x4", 12, {}]', "x4", "FormationViolation", "FormatViolation"),
    ('[2, "x5", "Heartbeat", []]', "x5", "FormationViolation", "FormatViolation"),
    ('[2, "x6", "FooBar", {}]', "x6", "NotImplemented", "NotImplemented"),
    # Text that is not valid Unicode, or NUL: answered, and the connection kept.
    ('[2, "\\ud800", "Heartbeat", {}]', "-1", "FormationViolation", "RpcFrameworkError"),
    ('[2, "u1", "Authorize", {"idTag": "\\udc00x"}]', "u1", "PropertyConstraintViolation", "PropertyConstraintViolation"),
    ('[2, "u2", "Authorize", {"idTag": "a\\u0000"}]', "u2", "PropertyConstraintViolation", "PropertyConstraintViolation"),
    # Nested deeper than any OCPP message: refused before anything walks it.
    ('[2, "d1", "Heartbeat", {"x": ' + "[" * 3000 + "]" * 3000 + "}]", "-1", "FormationViolation", "RpcFrameworkError"),
]  # fmt: skip
# Per version: (frame, 1.6 code) and (frame, 2.0.1 code) for schema-level faults.
CASES_16: list[tuple[str, str]] = [
    ('[2, "s1", "BootNotification", {"chargePointVendor": "Acme"}]', "OccurenceConstraintViolation"),
    ('[2, "s2", "StatusNotification", {"connectorId": "1", "errorCode": "NoError", "status": "Available"}]', "TypeConstraintViolation"),
    ('[2, "s3", "StatusNotification", {"connectorId": 1, "errorCode": "NoError", "status": "Sleeping"}]', "PropertyConstraintViolation"),
    ('[2, "s4", "BootNotification", {"chargePointVendor": "' + "V" * 21 + '", "chargePointModel": "M"}]', "PropertyConstraintViolation"),
    ('[2, "s5", "StartTransaction", {"connectorId": 1, "idTag": "A", "meterStart": 0, "timestamp": "2026-11-26T10:00:00"}]', "PropertyConstraintViolation"),
    ('[2, "s6", "Heartbeat", {"extra": 1}]', "FormationViolation"),
    ('[2, "s7", "ClearCache", {}]', "NotSupported"),
    ('[2, "s8", "MeterValues", {"connectorId": 1, "transactionId": 5, "meterValue": [{"timestamp": "' + NOW + '", "sampledValue": [{"value": "abc"}]}]}]', "PropertyConstraintViolation"),
]  # fmt: skip
CASES_201: list[tuple[str, str]] = [
    ('[2, "s1", "BootNotification", {"reason": "PowerUp"}]', "OccurrenceConstraintViolation"),
    ('[2, "s2", "StatusNotification", {"timestamp": "' + NOW + '", "connectorStatus": "Available", "evseId": "1", "connectorId": 1}]', "TypeConstraintViolation"),
    ('[2, "s3", "StatusNotification", {"timestamp": "' + NOW + '", "connectorStatus": "Sleeping", "evseId": 1, "connectorId": 1}]', "PropertyConstraintViolation"),
    ('[2, "s4", "Heartbeat", {"extra": 1}]', "FormatViolation"),
    ('[2, "s5", "ClearCache", {}]', "NotSupported"),
]  # fmt: skip


async def new_station(client: httpx.AsyncClient, operator: Headers) -> tuple[str, str]:
    station_id = f"CP-{secrets.token_hex(3)}"
    made = await client.post("/api/v1/operator/stations", json={"id": station_id}, headers=operator)
    return station_id, made.json()["password"]


@pytest.mark.parametrize("version", ["ocpp1.6", "ocpp2.0.1"])
async def test_malformed_frames_get_the_right_callerror_and_the_connection_stays(
    client: httpx.AsyncClient, operator: Headers, server_url: str, version: str
) -> None:
    station_id, password = await new_station(client, operator)
    table = [(frame, uid, c16 if version == "ocpp1.6" else c201) for frame, uid, c16, c201 in CASES]
    table += [
        (frame, frame.split('"')[1], code)
        for frame, code in (CASES_16 if version == "ocpp1.6" else CASES_201)
    ]
    async with connect(server_url, station_id, password, version) as station:
        for frame, unique_id, code in table:
            reply = await station.raw(frame)
            assert reply[0] == 4, (frame, reply)
            assert reply[1] == unique_id, (frame, reply)
            assert reply[2] == code, (frame, reply)
            assert reply[3]
            assert reply[4] == {}
        # Still connected and served.
        assert (await station.call("Heartbeat", {}))[0] == 3
