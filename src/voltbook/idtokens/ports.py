"""What the id-token area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.idtokens.list_model import HeldList, ListLimits, ListRule, ListState, ListUpdate
from voltbook.idtokens.model import IdToken, TokenChange, TokenFilter


class IdTokenRepository(Protocol):
    async def get(self, token: str) -> IdToken | None: ...

    async def add(self, token: IdToken) -> bool:
        """Store a new token; False when one with that value exists."""
        ...

    async def save(self, token: IdToken) -> None: ...

    async def page(
        self, after: str | None, limit: int, where: TokenFilter, now: datetime
    ) -> list[IdToken]:
        """Tokens ordered by value, after `after`, matching `where` (standing as of `now`)."""
        ...

    async def driver_exists(self, driver_id: str) -> bool: ...

    async def note_change(self, change: TokenChange) -> None:
        """Keep a change for the stations, in the transaction that makes it."""
        ...


class IdTokenUnitOfWork(UnitOfWork, Protocol):
    @property
    def id_tokens(self) -> IdTokenRepository: ...


IdTokenUowFactory = UowFactory[IdTokenUnitOfWork]


class AuthListRepository(Protocol):
    async def rule(self) -> ListRule: ...

    async def set_rule(self, rule: ListRule, at: datetime) -> None: ...

    async def held(self, station_id: str) -> HeldList | None: ...

    async def outcome(self, station_id: str) -> ListState | None: ...

    async def store(
        self, station_id: str, held: HeldList | None, outcome: str, at: datetime
    ) -> None:
        """Record what the station holds now (None: unknown) and how the last update went."""
        ...

    async def all_tokens(self) -> list[IdToken]: ...

    async def station_site(self, station_id: str) -> tuple[bool, int | None] | None:
        """Whether the station is online, and its site; None when it does not exist."""
        ...

    async def online_stations(self) -> list[str]: ...

    async def take_changes(self, limit: int) -> list[TokenChange]:
        """The oldest `limit` changes kept for the stations, removed as they are read: of
        two servers taking at once, each change goes to one."""
        ...


class AuthListUnitOfWork(UnitOfWork, Protocol):
    @property
    def auth_lists(self) -> AuthListRepository: ...


AuthListUowFactory = UowFactory[AuthListUnitOfWork]


class LocalListLink(Protocol):
    """A station's authorization list over OCPP (SendLocalList, GetLocalListVersion)."""

    async def limits(self, station_id: str) -> ListLimits | None:
        """None when the station keeps no list (local lists off or not supported)."""
        ...

    async def version(self, station_id: str) -> int | None:
        """The station's list version (0 or less: it holds none); None if it cannot say."""
        ...

    def message_bytes(self, update: ListUpdate) -> int:
        """The bytes of the message that carries `update`, the whole frame as sent (what a
        station's BytesPerMessage bounds)."""
        ...

    async def send(self, station_id: str, update: ListUpdate) -> str:
        """The station's answer: Accepted, Failed, NotSupported or VersionMismatch."""
        ...

    async def clear_cache(self, station_id: str) -> str:
        """Ask the station to forget its authorization cache; its answer."""
        ...
