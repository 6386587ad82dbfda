"""Station passwords: a fast keyed hash, not argon2id (docs/adr/0015-station-admission.md).

A station password is a 16-40 character secret (random when voltbook makes it) and every
reconnect checks it; argon2id's cost, meant to slow down guessing people's weak passwords,
only slowed a reconnect storm of thousands of chargers. Here a password is stored as
HMAC-SHA256 under a server key and a per-station salt: a stolen database alone gives nothing
to guess against, and checking costs microseconds. Hashes made earlier with argon2id still
verify, and `needs_rehash` tells the fleet to store the new form on the station's next
successful connect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from voltbook.security.passwords import Argon2idHasher

_PREFIX = "hmac-sha256$"


class StationPasswordHasher:
    def __init__(self, key: bytes, legacy: Argon2idHasher | None = None) -> None:
        if len(key) < 32:
            raise ValueError("the station key must have at least 32 bytes")
        self._key = key
        self._legacy = legacy or Argon2idHasher(time_cost=1, memory_cost_kib=8_192)

    def hash(self, password: str) -> str:
        salt = secrets.token_bytes(16)
        return _PREFIX + _b64(salt) + "$" + _b64(self._digest(salt, password))

    def verify(self, password_hash: str, password: str) -> bool:
        if not password_hash.startswith(_PREFIX):
            return self._legacy.verify(password_hash, password)
        try:
            salt_text, digest_text = password_hash[len(_PREFIX) :].split("$")
            salt, digest = _unb64(salt_text), _unb64(digest_text)
        except ValueError:
            return False
        return hmac.compare_digest(digest, self._digest(salt, password))

    def needs_rehash(self, password_hash: str) -> bool:
        """True for a hash of the older (argon2id) form."""
        return not password_hash.startswith(_PREFIX)

    def _digest(self, salt: bytes, password: str) -> bytes:
        message = salt + password.encode("utf-8", "surrogatepass")
        return hmac.digest(self._key, message, hashlib.sha256)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError) as error:
        raise ValueError("not base64url") from error
