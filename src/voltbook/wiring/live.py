"""The live channel's backend: what it calls, in terms of the accounts, notices and the
areas that hear what the app reports (positions, vehicle states)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime

from voltbook.core.clock import Clock
from voltbook.drivers.service import AccountService
from voltbook.notices.model import Notice, Topic
from voltbook.notices.ports import Presence
from voltbook.notices.service import NoticeService

PositionSink = Callable[[str, float, float, float | None, datetime], Awaitable[object]]
VehicleSink = Callable[[str, str, float | None, float | None, datetime], Awaitable[object]]


class LiveBackend:
    """What the live channel calls, in terms of the services."""

    def __init__(
        self,
        accounts: AccountService,
        notices: NoticeService,
        presence: Presence,
        clock: Clock,
        positions: Sequence[PositionSink],
        vehicles: Sequence[VehicleSink],
    ) -> None:
        self._accounts = accounts
        self._notices = notices
        self._presence = presence
        self._clock = clock
        self._positions = positions
        self._vehicles = vehicles

    async def principal(self, token: str) -> tuple[str, bool, str]:
        principal = await self._accounts.authenticate(token)
        return principal.driver_id, principal.role.is_staff, principal.sign_in_id

    async def still_signed_in(self, sign_in_ids: list[str]) -> dict[str, bool]:
        roles = await self._accounts.still_signed_in(sign_in_ids)
        return {sign_in_id: role.is_staff for sign_in_id, role in roles.items()}

    async def latest_seq(self, driver_id: str) -> int:
        return await self._notices.latest_seq(driver_id)

    async def missed(self, driver_id: str, since: int) -> list[Notice]:
        return await self._notices.missed(driver_id, since)

    async def ack(self, driver_id: str, seq: int) -> bool:
        return await self._notices.ack(driver_id, seq)

    async def follow(self, driver_id: str, topic: str) -> Topic:
        return await self._notices.follow(driver_id, topic)

    async def unfollow(self, driver_id: str, topic: str) -> Topic:
        return await self._notices.unfollow(driver_id, topic)

    async def followed(self, driver_id: str) -> list[Topic]:
        return await self._notices.followed(driver_id)

    async def location(
        self, driver_id: str, lat: float, lon: float, accuracy_m: float | None, at: datetime
    ) -> None:
        for sink in self._positions:
            await sink(driver_id, lat, lon, accuracy_m, at)

    async def vehicle(
        self,
        driver_id: str,
        vehicle_id: str,
        soc_percent: float | None,
        range_km: float | None,
        at: datetime,
    ) -> None:
        for sink in self._vehicles:
            await sink(driver_id, vehicle_id, soc_percent, range_km, at)

    async def joined(self, driver_id: str) -> None:
        await self._presence.joined(driver_id)

    async def left(self, driver_id: str) -> None:
        await self._presence.left(driver_id)

    def now(self) -> datetime:
        return self._clock.now()
