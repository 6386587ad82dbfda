"""Port for one-way password hashes, shared by driver and station credentials."""

from __future__ import annotations

from typing import Protocol


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str, password: str) -> bool:
        """True when the password matches; never raises for a wrong one."""
        ...


class RehashingHasher(PasswordHasher, Protocol):
    def needs_rehash(self, password_hash: str) -> bool:
        """True when a verified password should be stored again in the current form."""
        ...
