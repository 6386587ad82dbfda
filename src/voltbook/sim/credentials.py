"""The password a simulated charger connects with, and how the server changes it.

OCPP 1.6 (security whitepaper, profiles 1 and 2): ChangeConfiguration of the write-only key
AuthorizationKey, whose value is the password hex-encoded (16 to 20 bytes here, as the
whitepaper bounds the key to 40 hex digits). OCPP 2.0.1: SetVariables of the write-only
SecurityCtrlr.BasicAuthPassword, the password itself (16 to 40 characters). Once it has
answered Accepted the charger drops its connection and connects again with the new password,
as the use case (2.0.1 A01) has it.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Coroutine
from typing import Any

AUTHORIZATION_KEY = "AuthorizationKey"
BASIC_AUTH_PASSWORD = ("SecurityCtrlr", "BasicAuthPassword")
_MIN, _MAX, _MAX_HEX_BYTES = 16, 40, 20
Reconnect = Callable[[], Coroutine[Any, Any, None]]


class StationPassword:
    def __init__(self, station_id: str, password: str, reconnect: Reconnect | None = None) -> None:
        self._station_id = station_id
        self._password = password
        self._reconnect = reconnect
        self._changed = False

    @property
    def header(self) -> str:
        """The HTTP Basic Authorization header value for the next connection."""
        pair = f"{self._station_id}:{self._password}".encode()
        return "Basic " + base64.b64encode(pair).decode()

    def set_hex(self, value: str) -> None:
        """1.6 AuthorizationKey; ValueError (the charger answers Rejected) when it is not hex
        of a 16 to 20 byte password."""
        try:
            raw = binascii.unhexlify(value)
        except (binascii.Error, ValueError) as error:
            raise ValueError("AuthorizationKey is not hex") from error
        if not _MIN <= len(raw) <= _MAX_HEX_BYTES:
            raise ValueError("AuthorizationKey holds 16 to 20 bytes")
        self.set(raw.decode("utf-8"))

    def set(self, value: str) -> None:
        """2.0.1 BasicAuthPassword; ValueError when it is not 16 to 40 characters."""
        if not _MIN <= len(value) <= _MAX:
            raise ValueError("a password has 16 to 40 characters")
        self._password = value
        self._changed = True

    def reconnect_after_answer(self) -> Reconnect | None:
        """What to run once the answer is sent: a reconnect, when the password changed."""
        if not self._changed:
            return None
        self._changed = False
        return self._reconnect
