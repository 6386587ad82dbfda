"""Classes of client input (issue 14, items 1-3 and 7), each refused at its one reader:
property-based, so that a class, not an example, is covered.

Every reader of client JSON (HTTP bodies, the booking fast lane, the live channel, OCPP
frames) goes through `core.json_text`; every integer and instant through `core.bounded`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from voltbook.api.cursors import decode_int_cursor
from voltbook.api.driver_schemas import PositionIn, VehicleIn
from voltbook.api.reservation_schemas import ReservationIn
from voltbook.core import bounded, json_text
from voltbook.core.errors import InvalidInput
from voltbook.core.json_text import JsonRefused
from voltbook.live.messages import BadMessage
from voltbook.live.messages import decode as _decode
from voltbook.live.messages import int_or_none as _int_or_none
from voltbook.ocpp.protocol import OcppError, Version, encode_error, parse_frame

# Text as a client may write it: any code point, lone surrogates and NUL included.
any_text = st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=30)
digits = st.text(st.characters(categories=["Nd", "No"]), min_size=1, max_size=25)
huge = st.integers(min_value=-(2**70), max_value=2**70)
offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda m: timezone(timedelta(minutes=m))
)
edge_times = st.datetimes(
    min_value=datetime(1, 1, 1),  # noqa: DTZ001 - hypothesis wants naive bounds
    max_value=datetime(9999, 12, 31, 23, 59),  # noqa: DTZ001
    timezones=offsets,
)


def refusal(call: Callable[[], object], kind: type[Exception]) -> Exception | None:
    """The `kind` of error `call` raised, or None; any other error fails the test."""
    try:
        call()
    except kind as error:
        return error
    return None


def escaped(text: str) -> str:
    """`text` as a JSON string literal; lone surrogates become \\uXXXX escapes."""
    return json.dumps(text)


# --- 1. numbers and instants at the edges ------------------------------------------------


@given(st.one_of(digits, st.integers().map(str), any_text))
def test_an_int_cursor_is_an_int_within_storage_or_a_clear_refusal(text: str) -> None:
    try:
        value = decode_int_cursor(_raw_cursor(text))
    except InvalidInput:
        return
    assert value is None or 0 <= value <= bounded.MAX_INT


def _raw_cursor(text: str) -> str:
    import base64

    raw = text.encode("utf-8", "surrogatepass")
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@given(st.one_of(huge, digits, any_text, st.booleans(), st.floats(), st.none()))
def test_a_live_sequence_number_is_an_int_within_storage_or_none(value: object) -> None:
    seq = _int_or_none(value)
    assert seq is None or 0 <= seq <= bounded.MAX_INT


@given(edge_times)
def test_an_instant_is_refused_or_survives_conversion_and_day_arithmetic(when: datetime) -> None:
    try:
        utc = bounded.instant(when)
    except InvalidInput:
        return
    assert utc.tzinfo is UTC
    assert utc - timedelta(days=31) < utc + timedelta(days=31)


@given(edge_times, huge)
def test_a_request_body_with_edge_times_or_huge_integers_is_refused_or_usable(
    when: datetime, number: int
) -> None:
    body = {"station_id": "CP-1", "connector_id": number, "start": when.isoformat(), "minutes": 30}
    try:
        accepted = ReservationIn.model_validate(body)
    except ValidationError:
        return
    assert accepted.start is not None
    accepted.start.astimezone(UTC) + timedelta(days=7)
    assert accepted.connector_id is not None
    assert abs(accepted.connector_id) <= bounded.MAX_INT


@given(edge_times)
def test_a_position_time_is_refused_or_usable(when: datetime) -> None:
    try:
        position = PositionIn.model_validate({"lat": 1, "lon": 2, "at": when.isoformat()})
    except ValidationError:
        return
    assert position.at is not None
    position.at.astimezone(UTC) - timedelta(minutes=5)


# --- 2. nesting --------------------------------------------------------------------------


@st.composite
def nested(draw: st.DrawFn) -> str:
    depth = draw(st.integers(min_value=0, max_value=5_000))
    opener = draw(st.sampled_from(["[", '{"a":']))
    closer = "]" if opener == "[" else "}"
    return opener * depth + "1" + closer * depth


@settings(max_examples=60)
@given(nested())
def test_json_nested_any_depth_is_read_or_refused_never_a_crash(text: str) -> None:
    refused = refusal(lambda: json_text.loads(text), JsonRefused)
    assert refused is None or getattr(refused, "reason", None) == "depth"


@settings(max_examples=60)
@given(nested())
def test_the_live_channel_answers_deep_json_with_an_error(text: str) -> None:
    bad = refusal(lambda: _decode('{"type": "ping", "x": ' + text + "}"), BadMessage)
    assert bad is None or getattr(bad, "code", None) in ("invalid-json", "too-large")


@settings(max_examples=60)
@given(nested())
def test_ocpp_answers_deep_json_with_a_callerror(text: str) -> None:
    error = refusal(lambda: parse_frame('[2, "m1", "Heartbeat", {"x": ' + text + "}]"), OcppError)
    if isinstance(error, OcppError):
        encode_error(error.unique_id or "-1", error.kind, Version.V16, error.description).encode()


# --- 3. text that is not valid Unicode, and NUL ---------------------------------------------


@given(any_text)
def test_json_text_with_lone_surrogates_or_nul_is_refused_and_anything_read_encodes(
    text: str,
) -> None:
    body = '{"name": ' + escaped(text) + "}"
    refused = refusal(lambda: json_text.loads(body), JsonRefused)
    if refused is not None:
        assert getattr(refused, "reason", None) == "text"
        return
    name = json_text.loads(body)["name"]
    name.encode("utf-8")
    assert "\x00" not in name


@given(any_text, any_text, st.sampled_from(list(Version)))
def test_an_ocpp_frame_with_any_text_gets_an_answer_the_socket_can_send(
    unique_id: str, vendor: str, version: Version
) -> None:
    frame = (
        f'[2, {escaped(unique_id)}, "BootNotification", '
        f'{{"chargePointVendor": {escaped(vendor)}, "chargePointModel": "M"}}]'
    )
    try:
        parse_frame(frame)
    except OcppError as error:
        # The CALLERROR goes out on the same socket: it must be valid UTF-8 text.
        encode_error(error.unique_id or "-1", error.kind, version, error.description).encode()
    else:
        unique_id.encode("utf-8")
        vendor.encode("utf-8")


@pytest.mark.parametrize("version", list(Version))
def test_a_lone_surrogate_in_a_payload_is_a_property_constraint_violation(
    version: Version,
) -> None:
    with pytest.raises(OcppError) as caught:
        parse_frame('[2, "m1", "Authorize", {"idTag": "\\ud800"}]')
    assert caught.value.unique_id == "m1"
    assert "PropertyConstraintViolation" in encode_error(
        "m1", caught.value.kind, version, caught.value.description
    )


# --- 7. unknown fields ------------------------------------------------------------------------


@given(st.text(st.characters(categories=["Ll"]), min_size=1, max_size=12))
def test_a_body_with_an_unknown_field_is_refused(name: str) -> None:
    body: dict[str, Any] = {"name": "Van", "battery_kwh": 60, "standards": ["CCS1"]}
    if name in VehicleIn.model_fields:
        return
    body[name] = 1
    with pytest.raises(ValidationError):
        VehicleIn.model_validate(body)
