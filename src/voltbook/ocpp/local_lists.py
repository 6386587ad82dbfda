"""Local authorization lists, as each OCPP version says them: which configuration tells a
station's limits, and where its answers keep the list version. The rest of voltbook asks
`GetLocalListLimits` / `GetLocalListVersion` and reads the answer's version-neutral `reading`,
and measures a SendLocalList by `local_list_frame_bytes`.
"""

from __future__ import annotations

from typing import Any

from voltbook.ocpp.commands import to_v201
from voltbook.ocpp.protocol import Version, encode_call, new_unique_id
from voltbook.stations.commands import SendLocalList

# 1.6: configuration keys (OCPP 1.6 §9.1); 2.0.1: LocalAuthListCtrlr variables (Part 2, 3.x).
V16_LIMIT_KEYS = ("LocalAuthListEnabled", "LocalAuthListMaxLength", "SendLocalListMaxLength")
V201_LIMIT_KEYS = (
    "LocalAuthListCtrlr.Enabled",
    "LocalAuthListCtrlr.ItemsPerMessage",
    "LocalAuthListCtrlr.BytesPerMessage",
)
V16_MAX_ID_TAG = 20  # 1.6 idTag is CiString20Type; 2.0.1 idToken is identifierString[36]


def local_list_frame_bytes(command: SendLocalList) -> int:
    """The UTF-8 bytes of the frame that carries `command`, id and all, as a station reads
    it: what 2.0.1 BytesPerMessage (LocalAuthListCtrlr) bounds. Only 2.0.1 stations state a
    byte limit, so the frame is the 2.0.1 one."""
    return len(encode_call(new_unique_id(), *to_v201(command)).encode())


def limit_keys(version: Version) -> tuple[str, ...]:
    """The configuration keys (1.6) or Component.Variable names (2.0.1) to read."""
    return V16_LIMIT_KEYS if version is Version.V16 else V201_LIMIT_KEYS


def read_limits(version: Version, response: dict[str, Any]) -> dict[str, Any]:
    """What a GetConfiguration (1.6) or GetVariables (2.0.1) answer says of the list."""
    if version is Version.V16:
        values = _v16_values(response)
        enabled, max_entries, per_message = (values.get(k) for k in V16_LIMIT_KEYS)
        reading: dict[str, Any] = {
            "enabled": _true(enabled),
            "max_entries": _positive(max_entries),
            "per_message": _positive(per_message),
            "max_token_length": V16_MAX_ID_TAG,
        }
    else:
        values = _v201_values(response)
        enabled, per_message, per_bytes = (values.get(k) for k in V201_LIMIT_KEYS)
        reading = {
            "enabled": _true(enabled),
            "per_message": _positive(per_message),
            "bytes_per_message": _positive(per_bytes),
        }
    return {key: value for key, value in reading.items() if value is not None}


def read_list_version(response: dict[str, Any]) -> dict[str, Any]:
    """1.6 answers `listVersion`, 2.0.1 `versionNumber`."""
    value = response.get("listVersion", response.get("versionNumber"))
    return {"version": value} if isinstance(value, int) and not isinstance(value, bool) else {}


def _v16_values(response: dict[str, Any]) -> dict[str, str]:
    keys = response.get("configurationKey") or []
    return {str(k.get("key")): str(k.get("value", "")) for k in keys if isinstance(k, dict)}


def _v201_values(response: dict[str, Any]) -> dict[str, str]:
    values: dict[str, str] = {}
    for result in response.get("getVariableResult") or []:
        if not isinstance(result, dict) or result.get("attributeStatus") != "Accepted":
            continue
        component = (result.get("component") or {}).get("name")
        variable = (result.get("variable") or {}).get("name")
        values[f"{component}.{variable}"] = str(result.get("attributeValue", ""))
    return values


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() == "true"


def _positive(value: str | None) -> int | None:
    text = (value or "").strip()
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        return None
    number = int(text)
    return number if number > 0 else None
