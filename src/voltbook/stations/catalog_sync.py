"""Keeps the site catalog current, within a stated bound, whatever changed a site and wherever.

What a search shows of a site changes in these ways, each handled (docs/adr/0022):

* **On this node**, a connector's status, a station connecting, leaving or booting: the
  event names the station; `on_event` reads its site again before the handler returns, so
  the node's own changes show at once, and publishes `SitesChanged`, cluster-wide.
* **On another node**, the same: its `SitesChanged` arrives over the Redis bus and the sites
  it names are read again (milliseconds).
* **Rows this server's clock stamps** (an import writing a site, `updated_at`; a station
  registered, `created_at`; heard from, connected or booted, `last_seen`), whichever process
  wrote them: every `period_s` (0.5 s) the sites with rows stamped since the last look, less
  `slack_s` for transactions still open then and clocks apart, are read again if any stamp is
  new. A site removed shows as a smaller count, and brings on a full reading.
* **Anything else, and whatever a lost message missed** (Redis pub/sub keeps nothing while a
  node is away): every `full_period_s` (30 s), and at once after an import on this node,
  every row a search shows is read and compared (`SiteVersions.read`), in a loop of its
  own beside the looks (it may take longer than the bound).

`SiteCatalog.fresh` holds the bound: the catalog answers only while its last successful
look began at most `max_age_s` (1 s) ago; otherwise searches read the database.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from voltbook.core.bus import Event, EventBus
from voltbook.core.clock import Clock
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.events import (
    ConnectorStatusChanged,
    SitesChanged,
    SitesImported,
    StationBooted,
    StationConnected,
    StationDisconnected,
)
from voltbook.stations.model import Site
from voltbook.stations.ports import StationsUowFactory

READ_BATCH = 1_000
# Stations known to have no site, kept at most this many (then forgotten, and asked again).
SITELESS_KEPT = 100_000
# What the bus says that changes what a search shows of a site (`on_event`).
CATALOG_EVENTS: tuple[type[Event], ...] = (
    ConnectorStatusChanged,
    StationConnected,
    StationDisconnected,
    StationBooted,
    SitesImported,
    SitesChanged,
)


class SiteVersions(Protocol):
    async def read(self, previous: Any) -> tuple[Any, set[int], set[int]]:
        """A new reading of what a search shows of every site, the ids of the sites whose
        rows differ from `previous` (a reading this returned before; None: every site),
        and the ids of every site."""
        ...

    async def stamped_since(self, since: datetime) -> tuple[int, set[tuple[Any, ...]]]:
        """The number of sites, and the rows stamped by the server's clock at or after
        `since`: (site id, what, row id, stamp) each."""
        ...


class CatalogSync:
    def __init__(
        self,
        catalog: SiteCatalog,
        versions: SiteVersions,
        uow: StationsUowFactory,
        clock: Clock,
        bus: EventBus | None = None,
        *,
        period_s: float = 0.5,
        full_period_s: float = 30.0,
        slack_s: float = 5.0,
    ) -> None:
        self.catalog = catalog
        self._versions = versions
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self.period_s = period_s
        self.full_period_s = full_period_s
        self.slack_s = slack_s
        self._reading: Any = None
        self._stamps: set[tuple[Any, ...]] = set()
        self._looked_at: datetime | None = None
        # Each read of sites gets the next number; a site is replaced only by a read that
        # began after the one it came from (a slow reconciliation never undoes an event's).
        self._reads = 0
        self._read_by: dict[int, int] = {}
        self._everything = False
        self._publishing: list[SitesChanged] = []  # this node's own, on their way out
        self._wake = asyncio.Event()
        self.failures = 0
        self._siteless: set[str] = set()  # stations of no site: no event of theirs matters

    async def reconcile(self) -> int:
        """Read and compare every row a search shows; returns how many sites were read."""
        started, wall = self._clock.monotonic(), self._clock.now()
        self._everything = False
        # The stamps first: what the next look finds new was written after this reading.
        _, stamps = await self._versions.stamped_since(wall - timedelta(seconds=self.slack_s))
        reading, changed, every = await self._versions.read(self._reading)
        first = self._reading is None and not len(self.catalog)
        read, sites = await self._read(sorted(changed))
        if first:
            self.catalog.load(sites)
            self._read_by = dict.fromkeys(self.catalog.site_ids(), read)
        else:
            self._put(read, sites)
            for site_id in self.catalog.site_ids() - every:
                if self._read_by.get(site_id, 0) < read:
                    self.catalog.remove(site_id)
                    self._read_by.pop(site_id, None)
        self._reading = reading
        self._stamps = stamps
        self._looked_at = wall
        self.catalog.checked(started)
        return len(sites)

    async def look(self) -> int:
        """Read again the sites with rows stamped since the last look; returns how many."""
        if self._looked_at is None:  # not filled yet
            return await self.reconcile()
        started, wall = self._clock.monotonic(), self._clock.now()
        count, stamps = await self._versions.stamped_since(
            self._looked_at - timedelta(seconds=self.slack_s)
        )
        fresh = {row[0] for row in stamps - self._stamps}
        read, sites = await self._read(sorted(fresh))
        self._put(read, sites)
        self._stamps = stamps
        self._looked_at = wall
        if count != len(self.catalog):  # a site removed (or added unstamped): compare all
            self.changed_all()
            return len(sites)
        self.catalog.checked(started)
        return len(sites)

    async def refresh(self, site_ids: Sequence[int]) -> None:
        """Read these sites again now."""
        read, sites = await self._read(site_ids)
        self._put(read, sites)

    def _put(self, read: int, sites: list[Site]) -> None:
        newer = [site for site in sites if self._read_by.get(site.id, 0) <= read]
        self.catalog.put_many(newer)
        self._read_by.update((site.id, read) for site in newer)

    async def _read(self, site_ids: Sequence[int]) -> tuple[int, list[Site]]:
        self._reads += 1
        read = self._reads
        found: list[Site] = []
        for start in range(0, len(site_ids), READ_BATCH):
            async with self._uow(read_only=True) as uow:
                batch = await uow.sites.get_many(site_ids[start : start + READ_BATCH])
            found.extend(batch.values())
        return read, found

    @property
    def comparison_due(self) -> bool:
        """A comparison of everything is asked for and has not begun yet."""
        return self._everything

    def changed_all(self) -> None:
        """Read and compare everything now, not at the next full period."""
        self._everything = True
        self._wake.set()

    async def on_event(self, event: Event) -> None:
        """The bus handler (for every type in `CATALOG_EVENTS`)."""
        if isinstance(event, SitesImported):
            self.changed_all()
        elif isinstance(event, SitesChanged):
            if all(event is not mine for mine in self._publishing):  # another node's
                await self.refresh(event.site_ids)
        elif isinstance(
            event, ConnectorStatusChanged | StationConnected | StationDisconnected | StationBooted
        ):
            if isinstance(event, StationConnected) and event.resumed:
                return  # it never went offline: nothing the catalog holds changed
            site_id = await self._site_of(event.station_id)
            if site_id is None:  # a station of no site is in no search
                return
            await self.refresh([site_id])
            if self._bus is not None:
                mine = SitesChanged((site_id,))
                self._publishing.append(mine)
                try:
                    await self._bus.publish(mine)
                finally:
                    self._publishing.remove(mine)

    async def _site_of(self, station_id: str) -> int | None:
        """The station's site: the catalog's, else storage's (a station made since the
        last reading). A station's site is given when it is made, so "none" is kept."""
        site_id = self.catalog.site_of_station(station_id)
        if site_id is not None or station_id in self._siteless:
            return site_id
        async with self._uow(read_only=True) as uow:
            found = await uow.sites.sites_of([station_id])
        if station_id not in found:
            return None  # not made yet: asked again next time
        site_id = found[station_id]
        if site_id is None:
            if len(self._siteless) >= SITELESS_KEPT:
                self._siteless.clear()
            self._siteless.add(station_id)
        return site_id

    async def run(self) -> None:
        """Look every `period_s`; compare everything every `full_period_s`, or at once when
        an event asks for it, in a loop of its own (a full comparison may take longer than
        the staleness bound, and the looks keep the catalog fresh meanwhile)."""
        await self._guarded(self.reconcile)
        full = asyncio.create_task(self._compare_all())
        try:
            while True:
                started = self._clock.monotonic()
                await self._guarded(self.look)
                await asyncio.sleep(max(0.0, started + self.period_s - self._clock.monotonic()))
        finally:
            full.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await full

    async def _compare_all(self) -> None:
        while True:
            if not self._everything:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.full_period_s)
            self._wake.clear()
            await self._guarded(self.reconcile)

    async def _guarded(self, step: Callable[[], Awaitable[int]]) -> None:
        try:
            await step()
        except Exception:  # storage away: the catalog goes stale and searches use SQL
            self.failures += 1
            await asyncio.sleep(min(self.period_s, 0.1))
