"""In-memory ports of the charging area, for unit tests (no database, no network).

They keep to what `storage/sessions.py` and the database promise, and no more:

- `SessionStore` holds the *committed* sessions and the registered id tags; `uow` is the
  ChargingUowFactory the service takes. A write unit of work works on a private copy and
  publishes it on `commit`; leaving without a commit throws its writes away (ids handed out
  meanwhile are not reused, like a database sequence). A read-only one refuses every write.
- `get` finds a session by the station's transaction id, or by its number when it has none
  (OCPP 1.6); `save` stores the whole session, like the SQL UPDATE of every column;
  `save_meters` stores only the live figures of running sessions, and never older ones.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork, ReadOnlyViolation
from voltbook.charging.model import ChargingSession, SessionFilter


@dataclass(slots=True)
class _State:
    sessions: dict[int, ChargingSession] = field(default_factory=dict)

    def copy(self) -> _State:
        return _State(dict(self.sessions))


class SessionStore(MemoryStore[_State]):
    def __init__(self) -> None:
        super().__init__(_State())
        self.id_tags: dict[str, str] = {}  # token -> status (Accepted, Blocked, ...)
        self.owners: dict[str, str] = {}  # token -> driver id
        self._ids = itertools.count(1)

    def uow(self, *, read_only: bool = False) -> SessionsUow:
        return SessionsUow(self, read_only=read_only)

    def register(self, id_tag: str, status: str = "Accepted") -> None:
        self.id_tags[id_tag] = status

    def committed(self, session_id: int) -> ChargingSession:
        return self.state.sessions[session_id]

    def copy_state(self, state: _State) -> _State:
        return state.copy()


class InMemorySessionRepository:
    def __init__(self, store: SessionStore, state: _State, *, writable: bool) -> None:
        self._store = store
        self._state = state
        self._writable = writable

    def _write(self, what: str) -> None:
        if not self._writable:
            raise ReadOnlyViolation(f"{what} in a read-only unit of work")

    async def add(self, session: ChargingSession) -> ChargingSession:
        self._write("add")
        added = dataclasses.replace(session, id=next(self._store._ids))
        self._state.sessions[added.id] = added
        return added

    async def get(self, station_id: str, reference: str) -> ChargingSession | None:
        return next(
            (
                s
                for s in self._state.sessions.values()
                if s.station_id == station_id
                and (
                    s.external_id == reference or (s.external_id is None and str(s.id) == reference)
                )
            ),
            None,
        )

    async def find_start(
        self, station_id: str, evse_id: int, started_at: datetime, id_tag: str | None
    ) -> ChargingSession | None:
        return next(
            (
                s
                for s in self._state.sessions.values()
                if (s.station_id, s.evse_id, s.started_at, s.id_tag)
                == (station_id, evse_id, started_at, id_tag)
            ),
            None,
        )

    async def save(self, session: ChargingSession) -> None:
        self._write("save")
        if session.id in self._state.sessions:
            self._state.sessions[session.id] = session

    async def save_meters(self, sessions: list[ChargingSession]) -> None:
        self._write("save_meters")
        for live in sessions:
            stored = self._state.sessions.get(live.id)
            if stored is None or not stored.active:
                continue
            if stored.last_sample_at is not None and (
                live.last_sample_at is None or live.last_sample_at <= stored.last_sample_at
            ):
                continue
            self._state.sessions[live.id] = dataclasses.replace(
                stored,
                energy_wh=live.energy_wh,
                power_w=live.power_w,
                soc_percent=live.soc_percent,
                last_sample_at=live.last_sample_at,
                last_seq_no=live.last_seq_no,
            )

    async def id_tag_status(self, id_tag: str) -> str | None:
        return self._store.id_tags.get(id_tag)

    async def by_id(self, session_id: int) -> ChargingSession | None:
        return self._state.sessions.get(session_id)

    async def page(
        self, where: SessionFilter, before: int | None, limit: int
    ) -> list[ChargingSession]:
        found = [
            s
            for session_id, s in sorted(self._state.sessions.items(), reverse=True)
            if (before is None or session_id < before)
            and (where.station_id is None or s.station_id == where.station_id)
            and (where.id_tag is None or s.id_tag == where.id_tag)
            and (
                where.driver_id is None or self._store.owners.get(s.id_tag or "") == where.driver_id
            )
            and (where.since is None or s.started_at >= where.since)
            and (where.until is None or s.started_at < where.until)
            and (where.active is None or s.active is where.active)
        ]
        return found[:limit]


class SessionsUow(MemoryUnitOfWork[_State]):
    store: SessionStore
    _repository: InMemorySessionRepository | None = None

    @property
    def sessions(self) -> InMemorySessionRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        return self._repository

    def open_repositories(self) -> None:
        self._repository = InMemorySessionRepository(
            self.store, self.state, writable=not self.read_only
        )

    def close_repositories(self) -> None:
        self._repository = None


if TYPE_CHECKING:
    # mypy checks here that every fake satisfies its port.
    from voltbook.charging.ports import ChargingUnitOfWork, ChargingUowFactory, SessionRepository

    _repository: SessionRepository = InMemorySessionRepository(
        SessionStore(), _State(), writable=True
    )
    _uow: ChargingUnitOfWork = SessionsUow(SessionStore())
    _factory: ChargingUowFactory = SessionStore().uow
