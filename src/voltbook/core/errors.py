"""Domain errors. Adapters map them to their protocol (problem+json, CALLERROR)."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a use case raises on purpose."""

    code = "domain-error"

    def __init__(self, detail: str, **details: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.details = details  # machine-readable extras (problem+json extension members)


class NotFound(DomainError):
    code = "not-found"


class Conflict(DomainError):
    code = "conflict"


class InvalidInput(DomainError):
    code = "invalid-input"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Forbidden(DomainError):
    code = "forbidden"


class RateLimited(DomainError):
    code = "rate-limited"

    def __init__(self, detail: str, retry_after_s: int) -> None:
        super().__init__(detail)
        self.retry_after_s = retry_after_s


class Unavailable(Conflict):
    """The thing exists but cannot act now (for example a station that is offline)."""

    code = "unavailable"


class TimedOut(DomainError):
    """Another party (a station, an app) did not answer in time."""

    code = "timed-out"


class UpstreamFailed(DomainError):
    """Another party (a station) answered with an error or an invalid message."""

    code = "upstream-failed"


class StorageBusy(DomainError):
    """Storage could not take the work in time (no free connection, the database's write lock
    held too long, a database refusing connections): nothing was changed; try again."""

    code = "storage-busy"
    retry_after_s = 5

    def __init__(self, detail: str = "storage is busy: nothing was changed, try again") -> None:
        super().__init__(detail)
