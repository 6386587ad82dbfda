"""OCPP-J framing, CALLERROR codes and schema validation, table-driven for 1.6J and 2.0.1."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from voltbook.ocpp.protocol import (
    Call,
    CallError,
    CallResult,
    ErrorKind,
    OcppError,
    Version,
    encode_call,
    encode_error,
    encode_result,
    error_code,
    parse_frame,
)
from voltbook.ocpp.validation import SchemaValidator, is_rfc3339

V16, V201 = Version.V16, Version.V201

# The errorCode enumerations of OCPP-J 1.6 §4.2.3 and OCPP 2.0.1 Part 4 §4.3.
CODES_16 = {
    "NotImplemented",
    "NotSupported",
    "InternalError",
    "ProtocolError",
    "SecurityError",
    "FormationViolation",
    "PropertyConstraintViolation",
    "OccurenceConstraintViolation",
    "TypeConstraintViolation",
    "GenericError",
}
CODES_201 = {
    "FormatViolation",
    "GenericError",
    "InternalError",
    "MessageTypeNotSupported",
    "NotImplemented",
    "NotSupported",
    "OccurrenceConstraintViolation",
    "PropertyConstraintViolation",
    "ProtocolError",
    "RpcFrameworkError",
    "SecurityError",
    "TypeConstraintViolation",
}

NOW = "2026-01-01T10:00:00Z"
BOOT_16 = {"chargePointVendor": "VoltCorp", "chargePointModel": "VC-22"}
BOOT_201 = {"reason": "PowerUp", "chargingStation": {"model": "VC-22", "vendorName": "VoltCorp"}}
STATUS_16 = {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": NOW}
STATUS_201 = {"timestamp": NOW, "connectorStatus": "Available", "evseId": 1, "connectorId": 1}
METER_VALUES_16 = {
    "connectorId": 1,
    "transactionId": 42,
    "meterValue": [
        {
            "timestamp": "2026-01-01T10:00:00.123Z",
            "sampledValue": [
                {
                    "value": "1234.5",
                    "context": "Sample.Periodic",
                    "measurand": "Energy.Active.Import.Register",
                    "unit": "Wh",
                },
                {"value": "7000", "measurand": "Power.Active.Import", "unit": "W"},
                {"value": "16.1", "measurand": "Current.Import", "unit": "A", "phase": "L1"},
            ],
        }
    ],
}
METER_VALUES_201 = {
    "evseId": 1,
    "meterValue": [
        {
            "timestamp": "2026-01-01T10:00:00+01:00",
            "sampledValue": [
                {"value": 1234.5, "measurand": "Energy.Active.Import.Register"},
                {"value": 7000, "measurand": "Power.Active.Import", "unitOfMeasure": {"unit": "W"}},
            ],
        }
    ],
}


def call(action: str, payload: dict[str, Any], unique_id: str = "m1") -> str:
    return encode_call(unique_id, action, payload)


def without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {name: value for name, value in payload.items() if name != key}


@pytest.fixture(scope="module")
def validator() -> SchemaValidator:
    # One instance for the module: every schema is then compiled at most once.
    return SchemaValidator()


def answer(raw: str | bytes, version: Version, validator: SchemaValidator) -> list[Any]:
    """What the gateway answers to an incoming frame that fails: its CALLERROR, decoded."""
    call_id = "-1"
    try:
        frame = parse_frame(raw)
        assert isinstance(frame, Call)
        call_id = frame.unique_id
        validator.validate_request(version, frame.action, frame.payload)
    except OcppError as error:
        # Validation errors carry no id: the gateway answers to the CALL's own id.
        unique_id = error.unique_id if error.unique_id is not None else call_id
        encoded = encode_error(unique_id, error.kind, version, error.description, error.details)
        decoded: list[Any] = json.loads(encoded)
        return decoded
    pytest.fail(f"{raw!r} was accepted")


RPC_16, RPC_201 = "FormationViolation", "RpcFrameworkError"
FORMAT_16, FORMAT_201 = "FormationViolation", "FormatViolation"
OCCURS_16, OCCURS_201 = "OccurenceConstraintViolation", "OccurrenceConstraintViolation"
TYPE, PROPERTY = "TypeConstraintViolation", "PropertyConstraintViolation"

# name, frame for 1.6, frame for 2.0.1 (None: the same), answered id, code 1.6, code 2.0.1
MALFORMED: list[tuple[str, str | bytes, str | bytes | None, str, str, str]] = [
    ("not JSON", '[2, "m1", "Heartbeat"', None, "-1", RPC_16, RPC_201),
    ("NaN is not JSON", '[2, "m1", "Heartbeat", {"x": NaN}]', None, "-1", RPC_16, RPC_201),
    ("not UTF-8", b'[2, "m1", "Heartbeat", {"x": "\xff"}]', None, "-1", RPC_16, RPC_201),
    ("nested too deep", "[" * 100_000, None, "-1", RPC_16, RPC_201),
    ("JSON object, not an array", '{"id": "m1"}', None, "-1", RPC_16, RPC_201),
    ("JSON string, not an array", '"Heartbeat"', None, "-1", RPC_16, RPC_201),
    ("empty array", "[]", None, "-1", RPC_16, RPC_201),
    ("message type a string", '["2", "m1", "Heartbeat", {}]', None, "m1", RPC_16, RPC_201),
    ("message type a boolean", '[true, "m1", "Heartbeat", {}]', None, "m1", RPC_16, RPC_201),
    ("message type a float", '[2.0, "m1", "Heartbeat", {}]', None, "m1", RPC_16, RPC_201),
    (
        "unknown message type 7",
        '[7, "m1", "Heartbeat", {}]',
        None,
        "m1",
        RPC_16,
        "MessageTypeNotSupported",
    ),
    ("message id missing", "[2]", None, "-1", RPC_16, RPC_201),
    ("message id a number", '[2, 17, "Heartbeat", {}]', None, "-1", RPC_16, RPC_201),
    ("message id empty", '[2, "", "Heartbeat", {}]', None, "-1", RPC_16, RPC_201),
    ("message id of 37 chars", call("Heartbeat", {}, "x" * 37), None, "-1", RPC_16, RPC_201),
    ("CALL with 3 elements", '[2, "m1", "Heartbeat"]', None, "m1", FORMAT_16, FORMAT_201),
    ("CALL with 5 elements", '[2, "m1", "Heartbeat", {}, {}]', None, "m1", FORMAT_16, FORMAT_201),
    ("action not a string", '[2, "m1", 42, {}]', None, "m1", FORMAT_16, FORMAT_201),
    ("payload an array", '[2, "m1", "Heartbeat", []]', None, "m1", FORMAT_16, FORMAT_201),
    ("payload null", '[2, "m1", "Heartbeat", null]', None, "m1", FORMAT_16, FORMAT_201),
    ("unknown action", call("FooBar", {}), None, "m1", "NotImplemented", "NotImplemented"),
    (
        "response name as action",
        call("HeartbeatResponse", {}),
        None,
        "m1",
        "NotImplemented",
        "NotImplemented",
    ),
    (
        "required field missing",
        call("BootNotification", without(BOOT_16, "chargePointModel")),
        call("BootNotification", without(BOOT_201, "chargingStation")),
        "m1",
        OCCURS_16,
        OCCURS_201,
    ),
    (
        "nested required field missing",
        call("MeterValues", {"connectorId": 1, "meterValue": [{"sampledValue": [{"value": "1"}]}]}),
        call("MeterValues", {"evseId": 1, "meterValue": [{"sampledValue": [{"value": 1}]}]}),
        "m1",
        OCCURS_16,
        OCCURS_201,
    ),
    (
        "empty list where 1..* is required",
        call("MeterValues", {"connectorId": 1, "meterValue": []}),
        call("MeterValues", {"evseId": 1, "meterValue": []}),
        "m1",
        OCCURS_16,
        OCCURS_201,
    ),
    (
        "integer sent as string",
        call("StatusNotification", {**STATUS_16, "connectorId": "1"}),
        call("StatusNotification", {**STATUS_201, "evseId": "1"}),
        "m1",
        TYPE,
        TYPE,
    ),
    (
        "integer sent as boolean",
        call("StatusNotification", {**STATUS_16, "connectorId": True}),
        call("StatusNotification", {**STATUS_201, "evseId": True}),
        "m1",
        TYPE,
        TYPE,
    ),
    (
        "bad enum value",
        call("StatusNotification", {**STATUS_16, "status": "Sleeping"}),
        call("StatusNotification", {**STATUS_201, "connectorStatus": "Sleeping"}),
        "m1",
        PROPERTY,
        PROPERTY,
    ),
    (
        "string too long",
        call("BootNotification", {**BOOT_16, "chargePointVendor": "V" * 21}),
        call(
            "BootNotification",
            {**BOOT_201, "chargingStation": {"model": "M", "vendorName": "V" * 51}},
        ),
        "m1",
        PROPERTY,
        PROPERTY,
    ),
    (
        "timestamp without timezone",
        call("StatusNotification", {**STATUS_16, "timestamp": "2026-01-01T10:00:00"}),
        call("StatusNotification", {**STATUS_201, "timestamp": "2026-01-01T10:00:00"}),
        "m1",
        PROPERTY,
        PROPERTY,
    ),
    (
        "timestamp with ±hhmm offset (not RFC 3339)",
        call("StatusNotification", {**STATUS_16, "timestamp": "2026-01-01T10:00:00+0100"}),
        call("StatusNotification", {**STATUS_201, "timestamp": "2026-01-01T10:00:00+0100"}),
        "m1",
        PROPERTY,
        PROPERTY,
    ),
    (
        "timestamp on a day that does not exist",
        call("StatusNotification", {**STATUS_16, "timestamp": "2026-02-29T10:00:00Z"}),
        call("StatusNotification", {**STATUS_201, "timestamp": "2026-02-29T10:00:00Z"}),
        "m1",
        PROPERTY,
        PROPERTY,
    ),
    (
        "additional property",
        call("Heartbeat", {"foo": 1}),
        None,
        "m1",
        FORMAT_16,
        FORMAT_201,
    ),
    (
        "nested additional property",
        call(
            "MeterValues",
            {
                "connectorId": 1,
                "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": "1", "x": 1}]}],
            },
            "a-b-c",
        ),
        call(
            "BootNotification",
            {**BOOT_201, "chargingStation": {"model": "M", "vendorName": "V", "x": 1}},
            "a-b-c",
        ),
        "a-b-c",
        FORMAT_16,
        FORMAT_201,
    ),
]


def _malformed_params() -> list[Any]:
    params = []
    for name, raw_16, raw_201, unique_id, code_16, code_201 in MALFORMED:
        params.append(pytest.param(V16, raw_16, unique_id, code_16, id=f"1.6 {name}"))
        raw = raw_16 if raw_201 is None else raw_201
        params.append(pytest.param(V201, raw, unique_id, code_201, id=f"2.0.1 {name}"))
    return params


@pytest.mark.parametrize(("version", "raw", "unique_id", "code"), _malformed_params())
def test_malformed_call_is_answered_with_the_right_callerror(
    version: Version, raw: str | bytes, unique_id: str, code: str, validator: SchemaValidator
) -> None:
    reply = answer(raw, version, validator)

    assert reply[0] == 4
    assert reply[1] == unique_id
    assert reply[2] == code
    assert isinstance(reply[3], str)
    assert reply[3]
    assert reply[4] == {}
    assert len(reply) == 5


@pytest.mark.parametrize("version", list(Version))
def test_every_error_kind_has_a_code_of_that_version(version: Version) -> None:
    official = CODES_16 if version is V16 else CODES_201

    codes = {error_code(kind, version) for kind in ErrorKind}

    assert codes <= official
    # 1.6 folds three framing kinds into FormationViolation; 2.0.1 names all twelve.
    assert len(codes) == (10 if version is V16 else 12)


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        pytest.param(V16, "BootNotification", BOOT_16, id="1.6 BootNotification"),
        pytest.param(V16, "Heartbeat", {}, id="1.6 Heartbeat"),
        pytest.param(V16, "StatusNotification", STATUS_16, id="1.6 StatusNotification"),
        pytest.param(
            V16,
            "StartTransaction",
            {"connectorId": 1, "idTag": "04A2B3C4", "meterStart": 0, "timestamp": NOW},
            id="1.6 StartTransaction",
        ),
        pytest.param(V16, "MeterValues", METER_VALUES_16, id="1.6 MeterValues"),
        pytest.param(V201, "BootNotification", BOOT_201, id="2.0.1 BootNotification"),
        pytest.param(V201, "StatusNotification", STATUS_201, id="2.0.1 StatusNotification"),
        pytest.param(
            V201,
            "TransactionEvent",
            {
                "eventType": "Started",
                "timestamp": "2026-01-01T10:00:00.5-05:30",
                "triggerReason": "CablePluggedIn",
                "seqNo": 0,
                "transactionInfo": {"transactionId": "tx-1", "chargingState": "EVConnected"},
                "evse": {"id": 1, "connectorId": 1},
                "idToken": {"idToken": "04A2B3C4", "type": "ISO14443"},
                "customData": {"vendorId": "com.voltcorp", "anything": [1, 2]},
            },
            id="2.0.1 TransactionEvent",
        ),
        pytest.param(V201, "MeterValues", METER_VALUES_201, id="2.0.1 MeterValues"),
    ],
)
def test_valid_requests_pass(
    version: Version, action: str, payload: dict[str, Any], validator: SchemaValidator
) -> None:
    validator.validate_request(version, action, payload)


def test_validation_never_writes_schema_defaults_into_the_payload(
    validator: SchemaValidator,
) -> None:
    # The 2.0.1 MeterValues schema has defaults (context "Sample.Periodic", ...).
    payload = json.loads(json.dumps(METER_VALUES_201))

    validator.validate_request(V201, "MeterValues", payload)

    assert payload == METER_VALUES_201


@pytest.mark.parametrize(
    ("version", "action", "payload"),
    [
        pytest.param(
            V16,
            "GetConfiguration",
            {
                "configurationKey": [
                    {"key": "HeartbeatInterval", "readonly": False, "value": "300"}
                ],
                "unknownKey": ["FooBar"],
            },
            id="1.6 GetConfiguration",
        ),
        pytest.param(V16, "RemoteStartTransaction", {"status": "Accepted"}, id="1.6 RemoteStart"),
        pytest.param(
            V201,
            "GetVariables",
            {
                "getVariableResult": [
                    {
                        "attributeStatus": "Accepted",
                        "attributeValue": "300",
                        "component": {"name": "OCPPCommCtrlr"},
                        "variable": {"name": "HeartbeatInterval"},
                    }
                ]
            },
            id="2.0.1 GetVariables",
        ),
    ],
)
def test_valid_responses_pass(
    version: Version, action: str, payload: dict[str, Any], validator: SchemaValidator
) -> None:
    validator.validate_response(version, action, payload)


@pytest.mark.parametrize(
    ("version", "action", "payload", "kind"),
    [
        (
            V16,
            "GetConfiguration",
            {"configurationKey": [{"key": "A", "readonly": "no"}]},
            ErrorKind.TYPE,
        ),
        (V16, "RemoteStartTransaction", {}, ErrorKind.OCCURRENCE),
        (
            V201,
            "GetVariables",
            {"getVariableResult": [{"attributeStatus": "Maybe"}]},
            ErrorKind.OCCURRENCE,
        ),
        (V201, "Reset", {"status": "Maybe"}, ErrorKind.PROPERTY),
        (V201, "NoSuchAction", {}, ErrorKind.NOT_IMPLEMENTED),
    ],
)
def test_invalid_responses_fail(
    version: Version,
    action: str,
    payload: dict[str, Any],
    kind: ErrorKind,
    validator: SchemaValidator,
) -> None:
    with pytest.raises(OcppError) as caught:
        validator.validate_response(version, action, payload)

    assert caught.value.kind is kind
    assert caught.value.unique_id is None


def test_description_names_the_field_path(validator: SchemaValidator) -> None:
    payload = {"connectorId": 1, "meterValue": [{"timestamp": NOW, "sampledValue": [{"value": 1}]}]}

    with pytest.raises(OcppError) as caught:
        validator.validate_request(V16, "MeterValues", payload)

    assert caught.value.description.startswith(
        "meterValue[0].sampledValue[0].value: must be string"
    )


def test_description_names_the_missing_fields(validator: SchemaValidator) -> None:
    with pytest.raises(OcppError) as caught:
        validator.validate_request(V201, "BootNotification", {})

    assert caught.value.description == "chargingStation, reason: required field missing"


@pytest.mark.parametrize(
    "payload",
    [
        {**STATUS_16, "status": "S" * 10_000},
        {**STATUS_16, "x" * 10_000: 1},
        {**STATUS_16, "timestamp": "2" * 10_000},
    ],
    ids=["enum", "additional property", "format"],
)
def test_description_never_echoes_long_values(
    payload: dict[str, Any], validator: SchemaValidator
) -> None:
    with pytest.raises(OcppError) as caught:
        validator.validate_request(V16, "StatusNotification", payload)

    assert len(caught.value.description) < 150


def test_actions_of_both_versions(validator: SchemaValidator) -> None:
    actions_16 = validator.actions(V16)
    actions_201 = validator.actions(V201)

    assert {
        "Authorize",
        "BootNotification",
        "DataTransfer",
        "Heartbeat",
        "MeterValues",
        "StartTransaction",
        "StatusNotification",
        "StopTransaction",
        "RemoteStartTransaction",
        "GetConfiguration",
        "SecurityEventNotification",
    } <= actions_16
    assert {
        "Authorize",
        "BootNotification",
        "Heartbeat",
        "MeterValues",
        "StatusNotification",
        "TransactionEvent",
        "RequestStartTransaction",
        "GetVariables",
        "NotifyReport",
    } <= actions_201
    assert "TransactionEvent" not in actions_16
    assert "StartTransaction" not in actions_201
    assert not any(name.endswith(("Request", "Response")) for name in actions_16 | actions_201)


@pytest.mark.parametrize("version", list(Version))
def test_every_request_and_response_schema_compiles_and_runs(
    version: Version, validator: SchemaValidator
) -> None:
    # Covers draft-04 1.6 schemas and draft-06 ones with $id/definitions/$ref/javaType.
    assert validator.preload(version) == 2 * len(validator.actions(version))

    kinds = set()
    for action in validator.actions(version):
        for validate in (validator.validate_request, validator.validate_response):
            try:
                validate(version, action, {})
            except OcppError as error:  # an empty payload may fail, but only as OCPP
                kinds.add(error.kind)
    assert kinds == {ErrorKind.OCCURRENCE}


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-01-01T10:00:00Z",
        "2026-01-01t10:00:00z",
        "2026-01-01T10:00:00.123456789+02:00",
        "2024-02-29T00:00:00-05:30",
        "2000-02-29T23:59:59+00:00",
        "2026-06-30T23:59:60Z",
    ],
)
def test_rfc3339_accepts(timestamp: str) -> None:
    assert is_rfc3339(timestamp)


@pytest.mark.parametrize(
    "timestamp",
    [
        "2026-01-01T10:00:00",
        "2026-01-01T10:00:00.5",
        "2026-01-01T10:00:00+0100",
        "2026-01-01T10:00:00+01",
        "2026-01-01 10:00:00Z",
        "2026-01-01T10:00Z",
        "2026-01-01",
        "2026-02-29T10:00:00Z",
        "2100-02-29T10:00:00Z",
        "2026-04-31T10:00:00Z",
        "2026-13-01T10:00:00Z",
        "2026-00-10T10:00:00Z",
        "2026-01-00T10:00:00Z",
        "2026-01-01T24:00:00Z",
        "2026-01-01T10:00:00+24:00",
        "2026-01-01T10:00:00Z\n",
        "\uff12026-01-01T10:00:00Z",
        "",
    ],
)
def test_rfc3339_rejects(timestamp: str) -> None:
    assert not is_rfc3339(timestamp)


def test_call_round_trip() -> None:
    payload = {"chargePointVendor": "Élan", "chargePointModel": "VC-22"}

    raw = encode_call("id-1", "BootNotification", payload)

    assert (
        raw
        == '[2,"id-1","BootNotification",{"chargePointVendor":"Élan","chargePointModel":"VC-22"}]'
    )
    assert parse_frame(raw) == Call("id-1", "BootNotification", payload)
    assert parse_frame(raw.encode()) == Call("id-1", "BootNotification", payload)


def test_result_round_trip() -> None:
    payload = {"currentTime": NOW, "interval": 300, "status": "Accepted"}

    assert parse_frame(encode_result("id-2", payload)) == CallResult("id-2", payload)


@pytest.mark.parametrize("version", list(Version))
def test_error_round_trip(version: Version) -> None:
    raw = encode_error("id-3", ErrorKind.OCCURRENCE, version, "idTag: required", {"a": 1})

    frame = parse_frame(raw)

    code = "OccurenceConstraintViolation" if version is V16 else "OccurrenceConstraintViolation"
    assert frame == CallError("id-3", code, "idTag: required", {"a": 1})


def test_encode_error_cuts_description_and_defaults_details() -> None:
    reply = json.loads(encode_error("id-4", ErrorKind.INTERNAL, V201, "é" * 1000))

    assert reply == [4, "id-4", "InternalError", "é" * 255, {}]


def test_encoding_refuses_nan() -> None:
    with pytest.raises(ValueError, match="JSON"):
        encode_result("id-5", {"value": float("nan")})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            '[4, "m1", "GenericError", "boom", {"a": 1}]',
            CallError("m1", "GenericError", "boom", {"a": 1}),
        ),
        ('[4, "m1", "GenericError", "boom"]', CallError("m1", "GenericError", "boom", {})),
        ('[4, "m1", "GenericError", "boom", null]', CallError("m1", "GenericError", "boom", {})),
        ('[3, "m1", {}]', CallResult("m1", {})),
    ],
)
def test_answers_are_parsed_leniently(raw: str, expected: CallResult | CallError) -> None:
    assert parse_frame(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        '[3, "m1"]',
        '[3, "m1", {}, {}]',
        '[3, "m1", []]',
        '[4, "m1", "GenericError"]',
        '[4, "m1", 500, "boom", {}]',
        '[4, "m1", "GenericError", null, {}]',
        '[4, "m1", "GenericError", "boom", []]',
        '[4, "m1", "GenericError", "boom", {}, {}]',
    ],
)
def test_malformed_answers_are_format_errors_with_their_id(raw: str) -> None:
    with pytest.raises(OcppError) as caught:
        parse_frame(raw)

    assert caught.value.kind is ErrorKind.FORMAT
    assert caught.value.unique_id == "m1"


def test_ocpp_error_defaults() -> None:
    error = OcppError(ErrorKind.GENERIC, "oops")

    assert (error.kind, error.description, error.unique_id, error.details) == (
        ErrorKind.GENERIC,
        "oops",
        None,
        {},
    )
    assert str(error) == "oops"


def test_meter_values_validation_is_fast(validator: SchemaValidator) -> None:
    # Loose bound (~500 µs per call) so a busy CI machine never flakes; measured ~10 µs.
    validator.validate_request(V16, "MeterValues", METER_VALUES_16)  # compile outside timing
    started = time.perf_counter()

    for _ in range(2_000):
        validator.validate_request(V16, "MeterValues", METER_VALUES_16)

    assert time.perf_counter() - started < 1.0
