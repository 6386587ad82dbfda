"""Use cases of authorization lists: the operator's rule, and bringing each station's list
in line with it (SendLocalList), and clearing stations' authorization caches.

A station's list is brought in line when it connects, when a token changes and when the
operator asks. One station is synced at a time per node (a lock per station); a station
that answers VersionMismatch to a differential update gets a full one at once.

Token changes reach this service through the outbox their change wrote (ADR 0035): a server
takes them when its own process made one (at once) and every `CHANGES_EVERY_S` otherwise,
so changes made by the command line or another node are carried out too, by one server.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass

from voltbook.core.clock import Clock
from voltbook.core.errors import DomainError, NotFound
from voltbook.core.worker import SerialWorker
from voltbook.idtokens.list_model import (
    HeldList,
    ListRule,
    ListState,
    after,
    plan_updates,
    wanted_list,
)
from voltbook.idtokens.model import IdToken, TokenChange
from voltbook.idtokens.ports import AuthListUowFactory, LocalListLink

ACCEPTED = "Accepted"
VERSION_MISMATCH = "VersionMismatch"
NOT_SUPPORTED = "NotSupported"
UNAVAILABLE = "Unavailable"
NOT_COVERED = "NotCovered"
CHANGES_EVERY_S = 5.0  # how often a server looks for changes made by another process
CHANGES_PER_ROUND = 500


@dataclass(frozen=True, slots=True)
class SyncReport:
    station_id: str
    outcome: str
    messages: int
    version: int | None


class AuthListService:
    def __init__(
        self,
        uow: AuthListUowFactory,
        link: LocalListLink,
        clock: Clock,
        worker: SerialWorker | None = None,
    ) -> None:
        self._uow = uow
        self._link = link
        self._clock = clock
        self._locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.worker = worker or SerialWorker()  # where bootstrap queues syncs

    async def rule(self) -> ListRule:
        async with self._uow(read_only=True) as uow:
            return await uow.auth_lists.rule()

    async def set_rule(self, rule: ListRule) -> ListRule:
        """Store the operator's rule; `sync_all` brings the online stations in line."""
        async with self._uow() as uow:
            await uow.auth_lists.set_rule(rule, self._clock.now())
            await uow.commit()
        return rule

    async def state(self, station_id: str) -> ListState | None:
        async with self._uow(read_only=True) as uow:
            if await uow.auth_lists.station_site(station_id) is None:
                raise NotFound(f"station {station_id} does not exist")
            return await uow.auth_lists.outcome(station_id)

    async def sync_all(self) -> list[SyncReport]:
        async with self._uow(read_only=True) as uow:
            stations = await uow.auth_lists.online_stations()
        return [await self.sync(s) for s in stations]

    async def sync(self, station_id: str, *, full: bool = False) -> SyncReport:
        """Bring one station's list in line with the rule and the tokens; its last answer."""
        async with self._locks[station_id]:
            async with self._uow(read_only=True) as uow:
                place = await uow.auth_lists.station_site(station_id)
                if place is None:
                    raise NotFound(f"station {station_id} does not exist")
                rule = await uow.auth_lists.rule()
                held = await uow.auth_lists.held(station_id)
                tokens = await uow.auth_lists.all_tokens()
            if not rule.covers(place[1]) and held is None and not full:
                # It holds no list of ours: nothing to take away, and no call to make.
                return SyncReport(station_id, NOT_COVERED, 0, None)
            try:
                return await self._sync(station_id, place[1], rule, held, tokens, full=full)
            except (DomainError, TimeoutError) as error:
                # Offline or silent: what it holds is unknown until it answers again.
                await self._store(station_id, held, UNAVAILABLE)
                return SyncReport(station_id, getattr(error, "code", UNAVAILABLE), 0, None)

    async def _sync(
        self,
        station_id: str,
        site_id: int | None,
        rule: ListRule,
        held: HeldList | None,
        tokens: list[IdToken],
        *,
        full: bool,
    ) -> SyncReport:
        limits = await self._link.limits(station_id)
        if limits is None:
            await self._store(station_id, None, NOT_SUPPORTED)
            return SyncReport(station_id, NOT_SUPPORTED, 0, None)
        wanted = wanted_list(tokens, rule, site_id, limits, self._clock.now())
        station_version = await self._link.version(station_id)
        sent = 0
        for attempt_full in (full, True):
            updates = plan_updates(
                held, wanted, station_version, limits, self._link.message_bytes, full=attempt_full
            )
            outcome = ACCEPTED
            for update in updates:
                outcome = await self._link.send(station_id, update)
                sent += 1
                if outcome != ACCEPTED:
                    break
                held = after(held, update)
            if outcome != VERSION_MISMATCH or attempt_full:
                break
            held = None  # the station lost track: start over with a full list
        await self._store(station_id, held, outcome)
        return SyncReport(station_id, outcome, sent, held.version if held else None)

    async def look_for_changes(self) -> None:
        """Have the worker take the token changes kept for the stations and carry them out
        (queued once however often asked while the worker is busy)."""
        self.worker.submit_item(self._carry_out, None)

    async def carry_out_changes(self) -> list[TokenChange]:
        """Take the token changes kept for the stations and carry them out: caches cleared
        if a token was blocked, then every online station's list brought in line. A change
        is taken once (by one server); a station it does not reach gets its list when it
        next boots."""
        taken: list[TokenChange] = []
        while True:
            async with self._uow() as uow:
                batch = await uow.auth_lists.take_changes(CHANGES_PER_ROUND)
                await uow.commit()
            taken += batch
            if len(batch) < CHANGES_PER_ROUND:
                break
        if not taken:
            return taken
        if any(change.blocked for change in taken):
            await self.clear_caches()
        await self.sync_all()
        return taken

    async def _carry_out(self, _asks: list[None]) -> None:
        await self.carry_out_changes()

    async def clear_caches(self) -> int:
        """Ask every online station to forget its authorization cache; how many agreed."""
        async with self._uow(read_only=True) as uow:
            stations = await uow.auth_lists.online_stations()
        cleared = 0
        for station_id in stations:
            try:
                cleared += await self._link.clear_cache(station_id) == ACCEPTED
            except (DomainError, TimeoutError):
                continue  # offline now: its cache will not outlive the list it gets next
        return cleared

    async def _store(self, station_id: str, held: HeldList | None, outcome: str) -> None:
        async with self._uow() as uow:
            await uow.auth_lists.store(station_id, held, outcome, self._clock.now())
            await uow.commit()
