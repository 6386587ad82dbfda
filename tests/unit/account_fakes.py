"""In-memory accounts and sign-ins for unit tests, on the generic unit of work.

`InMemoryDriverStore` holds the committed accounts and sign-ins; its `uow` is the
DriversUowFactory the services take. The unique e-mail index is checked again at commit,
against what other units of work committed meanwhile. (Re-exported by `tests.unit.fakes`.)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.core.errors import Conflict
from voltbook.drivers.model import Driver, Role
from voltbook.drivers.ports import SignInRepository
from voltbook.drivers.sign_ins import SignIn


@dataclass(slots=True)
class DriversState:
    drivers: dict[str, Driver] = field(default_factory=dict)
    deleted: set[str] = field(default_factory=set)  # tombstones: erased accounts
    sign_ins: dict[str, SignIn] = field(default_factory=dict)
    refresh_tokens: dict[str, tuple[str, datetime, datetime | None]] = field(default_factory=dict)

    def copy(self) -> DriversState:
        return DriversState(
            dict(self.drivers), set(self.deleted), dict(self.sign_ins), dict(self.refresh_tokens)
        )


class InMemoryDriverStore(MemoryStore[DriversState]):
    """Committed accounts and sign-ins. `uow` is a DriversUowFactory."""

    def __init__(self) -> None:
        super().__init__(DriversState())

    @property
    def drivers(self) -> dict[str, Driver]:
        return self.state.drivers

    @property
    def deleted(self) -> set[str]:
        return self.state.deleted

    @property
    def sign_ins(self) -> dict[str, SignIn]:
        return self.state.sign_ins

    @property
    def refresh_tokens(self) -> dict[str, tuple[str, datetime, datetime | None]]:
        return self.state.refresh_tokens

    def uow(self, *, read_only: bool = False) -> InMemoryDriversUow:
        return InMemoryDriversUow(self, read_only=read_only)

    def copy_state(self, state: DriversState) -> DriversState:
        return state.copy()

    def by_email(self, email: str) -> Driver | None:
        return _by_email(self.state, email)

    def publish(self, staged: DriversState) -> None:
        """The unique e-mail index is checked at commit, against what others committed."""
        taken = {d.email: d.id for d in self.drivers.values()}
        new = (d for d in staged.drivers.values() if d.id not in self.drivers)
        if any(taken.get(d.email, d.id) != d.id for d in new):
            raise Conflict("an account with this e-mail address exists already")
        super().publish(staged)


def _by_email(state: DriversState, email: str) -> Driver | None:
    return next((d for d in state.drivers.values() if d.email == email), None)


class InMemoryDriverRepository:
    """DriverRepository in a unit of work; without one, it writes to the store at once."""

    def __init__(
        self,
        store: InMemoryDriverStore | None = None,
        *,
        uow: MemoryUnitOfWork[DriversState] | None = None,
    ) -> None:
        self._store = store if store is not None else InMemoryDriverStore()
        self._uow = uow

    def _state(self, write: str | None = None) -> DriversState:
        if self._uow is None:
            return self._store.state
        return self._uow.state if write is None else self._uow.writable(write)

    async def add(self, driver: Driver) -> None:
        state = self._state("add")
        if await self.by_email(driver.email) is not None:
            raise Conflict("an account with this e-mail address exists already")
        if await self.get(driver.id) is not None:
            raise Conflict(f"driver id {driver.id} exists already")
        state.drivers[driver.id] = driver

    async def by_email(self, email: str) -> Driver | None:
        return _by_email(self._state(), email)

    async def get(self, driver_id: str) -> Driver | None:
        state = self._state()
        return None if driver_id in state.deleted else state.drivers.get(driver_id)

    async def set_password(self, driver_id: str, password_hash: str) -> None:
        self._change(driver_id, password_hash=password_hash)

    async def set_role(self, driver_id: str, role: Role) -> None:
        self._change(driver_id, role=role)

    async def set_blocked(self, driver_id: str, blocked: bool) -> None:
        self._change(driver_id, blocked=blocked)

    async def erase(self, driver_id: str, at: datetime) -> None:
        """Like SQL: the row stays as a tombstone with nothing personal left in it."""
        self._change(
            driver_id,
            email=f"deleted-{driver_id}@deleted.invalid",
            password_hash="!",
            role=Role.DRIVER,
            blocked=True,
            consent_location=False,
            consent_offers=False,
            quiet_hours=None,
            time_zone=None,
        )
        self._state().deleted.add(driver_id)

    def _change(self, driver_id: str, **changes: object) -> None:
        state = self._state("a change")
        driver = state.drivers[driver_id]
        state.drivers[driver_id] = dataclasses.replace(driver, **changes)  # type: ignore[arg-type]


class InMemoryDriversUow(MemoryUnitOfWork[DriversState]):
    store: InMemoryDriverStore
    _repository: InMemoryDriverRepository | None = None
    _sign_ins: SignInRepository | None = None

    @property
    def drivers(self) -> InMemoryDriverRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        return self._repository

    @property
    def sign_ins(self) -> SignInRepository:
        if self._sign_ins is None:
            raise RuntimeError("the unit of work is not open")
        return self._sign_ins

    def open_repositories(self) -> None:
        from tests.unit.sign_in_fakes import InMemorySignInRepository

        self._repository = InMemoryDriverRepository(self.store, uow=self)
        self._sign_ins = InMemorySignInRepository(self)

    def close_repositories(self) -> None:
        self._repository = None
        self._sign_ins = None


if TYPE_CHECKING:
    # mypy checks here that every fake satisfies its port.
    from voltbook.drivers.ports import DriverRepository, DriversUnitOfWork, DriversUowFactory

    _drivers: DriverRepository = InMemoryDriverRepository()
    _drivers_uow: DriversUnitOfWork = InMemoryDriversUow(InMemoryDriverStore())
    _drivers_factory: DriversUowFactory = InMemoryDriverStore().uow
