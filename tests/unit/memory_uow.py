"""The one in-memory unit of work every fake area builds on (no database, no network).

It keeps to what `SqlUnitOfWork` promises, and no more:

- A `MemoryStore` holds an area's *committed* state (any object: a dataclass of dicts).
- A unit of work opened for writing works on a private copy of that state, taken on enter.
  `commit` publishes a copy of it (later writes in the same block stay private until the next
  `commit`); leaving the block without a commit, or with an exception, drops it.
- A read-only unit of work reads the committed state itself and refuses every write, and a
  commit: a use case that commits wants to write, and has opened the wrong kind.
- Repositories are made when the block opens (`open_repositories`) and are gone when it closes;
  using them outside the block raises, like a closed connection.

An area's fake subclasses `MemoryUnitOfWork[ItsState]`, makes its repositories in
`open_repositories`, and lets them reach the state through `uow.state` (to read) and
`uow.writable(what)` (to write).
"""

from __future__ import annotations

import copy
from types import TracebackType
from typing import TYPE_CHECKING, Generic, Self, TypeVar

S = TypeVar("S")


class ReadOnlyViolation(RuntimeError):
    """A write, or a commit, inside a unit of work opened with `read_only=True`."""


class MemoryStore(Generic[S]):
    """An area's committed state, with what tests read about how it was used."""

    def __init__(self, state: S) -> None:
        self.state = state
        self.commits = 0
        self.read_only_flags: list[bool] = []  # one per unit of work made, in order

    def publish(self, staged: S) -> None:
        """Make a unit of work's staged state the committed one."""
        self.state = self.copy_state(staged)
        self.commits += 1

    def copy_state(self, state: S) -> S:
        """A private copy of `state`; an area whose state is cheap to copy may override this."""
        return copy.deepcopy(state)


class MemoryUnitOfWork(Generic[S]):
    """A transaction on a `MemoryStore`: staged on enter, published on commit."""

    def __init__(self, store: MemoryStore[S], *, read_only: bool = False) -> None:
        self.store = store
        self.read_only = read_only
        self._state: S | None = None
        store.read_only_flags.append(read_only)

    @property
    def state(self) -> S:
        """The state this unit of work sees: the committed one (read-only) or its own copy."""
        if self._state is None:
            raise RuntimeError("the unit of work is not open")
        return self._state

    def writable(self, what: str = "a write") -> S:
        """The state to change; raises in a read-only unit of work."""
        if self.read_only:
            raise ReadOnlyViolation(f"{what} in a read-only unit of work")
        return self.state

    def open_repositories(self) -> None:
        """Make the repositories of this block (override); they read `self.state`."""

    def close_repositories(self) -> None:
        """Forget the repositories of this block (override)."""

    async def __aenter__(self) -> Self:
        if self._state is not None:
            raise RuntimeError("the unit of work is open already")
        committed = self.store.state
        self._state = committed if self.read_only else self.store.copy_state(committed)
        self.open_repositories()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # Whatever was not committed is rolled back.
        self._state = None
        self.close_repositories()

    async def commit(self) -> None:
        if self._state is None:
            raise RuntimeError("commit outside the unit of work")
        if self.read_only:
            raise ReadOnlyViolation("commit of a read-only unit of work")
        self.store.publish(self._state)


if TYPE_CHECKING:
    # mypy checks here that the generic unit of work satisfies the port.
    from voltbook.core.uow import UnitOfWork

    _uow: UnitOfWork = MemoryUnitOfWork(MemoryStore(0))
