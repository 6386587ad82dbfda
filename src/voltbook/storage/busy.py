"""Which storage failures mean "busy, try again" rather than a fault: they become the core
`StorageBusy` (503 with Retry-After on HTTP) instead of an internal error."""

from __future__ import annotations

import sqlalchemy.exc

# asyncpg's names for a server that takes no more connections, or none yet.
_REFUSING = {"TooManyConnectionsError", "CannotConnectNowError", "ConnectionDoesNotExistError"}


def storage_busy(error: BaseException) -> bool:
    if isinstance(error, sqlalchemy.exc.TimeoutError):  # no pooled connection free in time
        return True
    if isinstance(error, sqlalchemy.exc.OperationalError):
        text = str(error.orig if error.orig is not None else error).lower()
        if "database is locked" in text or "database table is locked" in text:
            return True
    if isinstance(error, sqlalchemy.exc.DBAPIError):
        original = error.orig
        if type(original).__name__ in _REFUSING:
            return True
        cause = getattr(original, "__cause__", None)
        if cause is not None and type(cause).__name__ in _REFUSING:
            return True
    # A database that refuses the connection itself (down, restarting, no slots).
    return isinstance(error, ConnectionRefusedError) or type(error).__name__ in _REFUSING
