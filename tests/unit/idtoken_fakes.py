"""In-memory ports of the id-token area, for unit tests (no database, no network).

`TokenStore` keeps tokens, drivers, the list rule and what each station holds, committed on
`commit` only (a unit of work left without it changes nothing). `FakeStations` plays the
stations' side of authorization lists: each keeps a list with a version and limits, answers
like a real one (VersionMismatch for a differential update not newer than its list, Failed
for a message of more entries than it takes, a FormatViolation CALLERROR for one of more
bytes), and may be offline. Messages are measured as the OCPP gateway writes them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.core.errors import Unavailable, UpstreamFailed
from voltbook.idtokens.list_model import HeldList, ListLimits, ListRule, ListState, ListUpdate
from voltbook.idtokens.model import IdToken, TokenChange, TokenFilter
from voltbook.ocpp.local_lists import local_list_frame_bytes
from voltbook.wiring.idtokens import local_list_command


def wire_bytes(update: ListUpdate) -> int:
    """The bytes of the frame the gateway sends `update` in (what BytesPerMessage bounds)."""
    return local_list_frame_bytes(local_list_command(update))


@dataclass
class _State:
    tokens: dict[str, IdToken] = field(default_factory=dict)
    rule: ListRule = field(default_factory=ListRule)
    held: dict[str, tuple[HeldList | None, str, datetime]] = field(default_factory=dict)
    changes: list[TokenChange] = field(default_factory=list)  # kept for the stations


class TokenStore(MemoryStore[_State]):
    def __init__(self) -> None:
        super().__init__(_State())
        self.drivers: set[str] = set()
        self.stations: dict[str, tuple[bool, int | None]] = {}  # id → (online, site)

    def uow(self, *, read_only: bool = False) -> TokenUow:
        return TokenUow(self, read_only=read_only)


class TokenUow(MemoryUnitOfWork[_State]):
    store: TokenStore

    def __init__(self, store: TokenStore, *, read_only: bool) -> None:
        super().__init__(store, read_only=read_only)
        self.id_tokens = _Tokens(self)
        self.auth_lists = _Lists(self)


class _Part:
    def __init__(self, uow: TokenUow) -> None:
        self._uow = uow
        self._store = uow.store

    @property
    def _state(self) -> _State:
        return self._uow.state


class _Tokens(_Part):
    async def get(self, token: str) -> IdToken | None:
        return self._state.tokens.get(token)

    async def add(self, token: IdToken) -> bool:
        self._uow.writable("add")
        if token.token in self._state.tokens:
            return False
        self._state.tokens[token.token] = token
        return True

    async def save(self, token: IdToken) -> None:
        self._uow.writable("save")
        self._state.tokens[token.token] = token

    async def page(
        self, after: str | None, limit: int, where: TokenFilter, now: datetime
    ) -> list[IdToken]:
        found = [
            t
            for value, t in sorted(self._state.tokens.items())
            if (after is None or value > after)
            and (where.kind is None or t.kind is where.kind)
            and (where.driver_id is None or t.driver_id == where.driver_id)
            and (where.prefix is None or value.startswith(where.prefix))
            and (where.standing is None or t.standing(now) is where.standing)
        ]
        return found[:limit]

    async def driver_exists(self, driver_id: str) -> bool:
        return driver_id in self._store.drivers

    async def note_change(self, change: TokenChange) -> None:
        self._uow.writable("note_change")
        self._state.changes.append(change)


class _Lists(_Part):
    async def rule(self) -> ListRule:
        return self._state.rule

    async def set_rule(self, rule: ListRule, at: datetime) -> None:
        self._uow.writable("set_rule")
        self._state.rule = rule

    async def held(self, station_id: str) -> HeldList | None:
        found = self._state.held.get(station_id)
        return None if found is None else found[0]

    async def outcome(self, station_id: str) -> ListState | None:
        if station_id not in self._state.held:
            return None
        held, outcome, at = self._state.held[station_id]
        version = held.version if held else None
        return ListState(station_id, version, len(held.entries) if held else 0, outcome, at)

    async def store(
        self, station_id: str, held: HeldList | None, outcome: str, at: datetime
    ) -> None:
        self._uow.writable("store")
        self._state.held[station_id] = (held, outcome, at)

    async def all_tokens(self) -> list[IdToken]:
        return [self._state.tokens[t] for t in sorted(self._state.tokens)]

    async def station_site(self, station_id: str) -> tuple[bool, int | None] | None:
        return self._store.stations.get(station_id)

    async def online_stations(self) -> list[str]:
        return sorted(s for s, (online, _) in self._store.stations.items() if online)

    async def take_changes(self, limit: int) -> list[TokenChange]:
        self._uow.writable("take_changes")
        taken, self._state.changes = self._state.changes[:limit], self._state.changes[limit:]
        return taken


@dataclass
class FakeCharger:
    limits: ListLimits | None = field(default_factory=lambda: ListLimits(per_message=2))
    version: int = 0
    entries: dict[str, str] = field(default_factory=dict)
    online: bool = True
    received: list[ListUpdate] = field(default_factory=list)
    caches_cleared: int = 0
    reports_version: int | None = None  # a station whose GetLocalListVersion is stale


class FakeStations:
    """The LocalListLink, with chargers that behave as the OCPP specification says."""

    def __init__(self) -> None:
        self.chargers: dict[str, FakeCharger] = {}

    def _charger(self, station_id: str) -> FakeCharger:
        charger = self.chargers[station_id]
        if not charger.online:
            raise Unavailable(f"station {station_id} is not connected")
        return charger

    async def limits(self, station_id: str) -> ListLimits | None:
        return self._charger(station_id).limits

    async def version(self, station_id: str) -> int | None:
        charger = self._charger(station_id)
        return charger.version if charger.reports_version is None else charger.reports_version

    def message_bytes(self, update: ListUpdate) -> int:
        return wire_bytes(update)

    async def send(self, station_id: str, update: ListUpdate) -> str:
        charger = self._charger(station_id)
        charger.received.append(update)
        limits = charger.limits or ListLimits()
        if limits.bytes_per_message is not None and wire_bytes(update) > limits.bytes_per_message:
            raise UpstreamFailed("station answered FormatViolation: message too long")
        if limits.per_message is not None and len(update.entries) > limits.per_message:
            return "Failed"
        if not update.full and update.version <= charger.version:
            return "VersionMismatch"
        entries = {} if update.full else dict(charger.entries)
        for entry in update.entries:
            if entry.standing is None:
                entries.pop(entry.token, None)
            else:
                entries[entry.token] = entry.standing.value
        charger.entries, charger.version = entries, update.version
        return "Accepted"

    async def clear_cache(self, station_id: str) -> str:
        self._charger(station_id).caches_cleared += 1
        return "Accepted"
