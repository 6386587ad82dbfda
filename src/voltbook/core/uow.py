"""The unit-of-work port every area builds on: one transaction per use case."""

from __future__ import annotations

from types import TracebackType
from typing import Protocol, Self, TypeVar


class UnitOfWork(Protocol):
    """Opens a transaction on enter; rolls back on exit unless `commit` was called.

    Each area extends it with the repositories it needs, as read-only properties.
    """

    async def __aenter__(self) -> Self: ...

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...

    async def commit(self) -> None: ...


_Uow_co = TypeVar("_Uow_co", covariant=True)


class UowFactory(Protocol[_Uow_co]):
    """Makes a unit of work; a read-only one takes no write lock and may skip a transaction."""

    def __call__(self, *, read_only: bool = False) -> _Uow_co: ...
