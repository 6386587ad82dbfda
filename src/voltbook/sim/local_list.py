"""The simulated station's Local Authorization List (OCPP SendLocalList / GetLocalListVersion).

A station checks a card against its list before its authorization cache (the list wins),
when it may decide without the server (LocalPreAuthorize) or must (offline). Its limits are
small on purpose, so that the server has to split its updates: a message of more entries
than it takes is Failed; on 2.0.1 a frame of more bytes than BytesPerMessage gets a
FormatViolation CALLERROR (`RpcConnection` measures the frame as received), as a 2.0.1
station answers a GetVariables over its byte limit (B06.FR.17; for SendLocalList the
specification only has the server keep to the limits).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from voltbook.sim.model import parse_bool
from voltbook.sim.rpc import CallError, JsonObject, Reply, field_value, optional_value

MAX_ENTRIES: Final = 50
PER_MESSAGE: Final = 4
BYTES_PER_MESSAGE: Final = 4000


@dataclass
class LocalList:
    per_message: int = PER_MESSAGE  # 1.6 SendLocalListMaxLength, 2.0.1 ItemsPerMessage
    bytes_per_message: int = BYTES_PER_MESSAGE  # 2.0.1 BytesPerMessage (of the whole frame)
    enabled: bool = True
    version: int = 0
    entries: dict[str, str] = field(default_factory=dict)  # id tag → Accepted, Blocked, …
    updates: int = 0  # SendLocalList messages taken, for tests and the log

    def apply(self, version: int, full: bool, changes: list[tuple[str, str | None]]) -> str:
        if not self.enabled:
            return "Failed"
        if len(changes) > self.per_message:
            return "Failed"
        if not full and version <= self.version:
            return "VersionMismatch"
        entries = {} if full else dict(self.entries)
        for tag, status in changes:
            if status is None:
                entries.pop(tag, None)
            else:
                entries[tag] = status
        if len(entries) > MAX_ENTRIES:
            return "Failed"
        self.entries, self.version = entries, version
        self.updates += 1
        return "Accepted"

    def decides(self, id_tag: str, cache: set[str]) -> bool:
        """Whether the station lets `id_tag` charge by itself: the list's word if it names
        the tag, else whether the authorization cache holds it."""
        status = self.entries.get(id_tag) if self.enabled else None
        return id_tag in cache if status is None else status == "Accepted"


def _update_type(payload: JsonObject) -> bool:
    kind = field_value(payload, "updateType", str)
    if kind not in ("Full", "Differential"):
        raise CallError("PropertyConstraintViolation", "updateType is Full or Differential")
    return kind == "Full"


def v16_handlers(local: LocalList) -> dict[str, Callable[[JsonObject], Reply]]:
    def send(payload: JsonObject) -> Reply:
        changes = [
            (
                field_value(item, "idTag", str),
                (optional_value(item, "idTagInfo", dict) or {}).get("status"),
            )
            for item in optional_value(payload, "localAuthorizationList", list) or []
        ]
        status = local.apply(
            field_value(payload, "listVersion", int), _update_type(payload), changes
        )
        return Reply({"status": "NotSupported" if not local.enabled else status})

    return {
        "SendLocalList": send,
        "GetLocalListVersion": lambda _p: Reply({"listVersion": local.version}),
    }


def v201_handlers(local: LocalList) -> dict[str, Callable[[JsonObject], Reply]]:
    def send(payload: JsonObject) -> Reply:
        changes = [
            (
                field_value(field_value(item, "idToken", dict), "idToken", str),
                (optional_value(item, "idTokenInfo", dict) or {}).get("status"),
            )
            for item in optional_value(payload, "localAuthorizationList", list) or []
        ]
        status = local.apply(
            field_value(payload, "versionNumber", int), _update_type(payload), changes
        )
        return Reply({"status": status})

    return {
        "SendLocalList": send,
        "GetLocalListVersion": lambda _p: Reply({"versionNumber": local.version}),
    }


def flag_of(local: LocalList) -> tuple[Callable[[], str], Callable[[str], None]]:
    def get() -> str:
        return "true" if local.enabled else "false"

    def put(text: str) -> None:
        local.enabled = parse_bool(text)

    return get, put


Getter = Callable[[], str]
Setter = Callable[[str], object]


def v16_configuration(local: LocalList) -> dict[str, tuple[Getter, Setter | None]]:
    return {
        "LocalAuthListEnabled": flag_of(local),
        "LocalAuthListMaxLength": (lambda: str(MAX_ENTRIES), None),
        "SendLocalListMaxLength": (lambda: str(local.per_message), None),
    }


def v201_variables(
    local: LocalList,
) -> dict[tuple[str, str], tuple[Getter, Setter | None]]:
    return {
        ("LocalAuthListCtrlr", "Enabled"): flag_of(local),
        ("LocalAuthListCtrlr", "Entries"): (lambda: str(len(local.entries)), None),
        ("LocalAuthListCtrlr", "ItemsPerMessage"): (lambda: str(local.per_message), None),
        ("LocalAuthListCtrlr", "BytesPerMessage"): (lambda: str(local.bytes_per_message), None),
    }
