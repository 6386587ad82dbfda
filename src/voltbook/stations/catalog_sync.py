"""Keeps the site catalog current, within a stated bound, whatever changed a site and wherever.

Two ways, and the second is the guarantee:

* **Events on this node** (a connector's status, a station connecting, leaving or booting,
  an import) name the site that changed; `changed_station` / `changed_all` wake the loop,
  which reads those sites again at once (milliseconds).
* **Reconciliation every `period_s`**: storage gives a version of every site (what its rows
  hold that a change could touch: the site's `updated_at`, its stations' ids, online flags
  and `last_seen`, its connectors' keys, status, `status_since` and error code), and the
  sites whose version differs from the one last read are read again; sites gone are
  dropped. This catches what no event of this node tells: status changes on other nodes,
  heartbeats' `last_seen`, station registration, imports by another process.

A change committed at time t is in the catalog by the end of the first reconciliation that
starts after t. The catalog records when each successful reconciliation started and counts
as fresh only while that is at most `max_age_s` (1 s) ago; otherwise (storage slow or
unreachable) searches go to the database until a reconciliation succeeds again
(docs/adr/0022).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Hashable, Sequence
from typing import Protocol

from voltbook.core.bus import Event
from voltbook.core.clock import Clock
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.events import (
    ConnectorStatusChanged,
    SitesImported,
    StationBooted,
    StationConnected,
    StationDisconnected,
)
from voltbook.stations.model import Site
from voltbook.stations.ports import StationsUowFactory

READ_BATCH = 1_000
# What this node's bus says that changes what a search shows of a site (`on_event`).
CATALOG_EVENTS: tuple[type[Event], ...] = (
    ConnectorStatusChanged,
    StationConnected,
    StationDisconnected,
    StationBooted,
    SitesImported,
)


class SiteVersions(Protocol):
    async def versions(self) -> dict[int, Hashable]:
        """Every site's id with a value that changes whenever anything a search shows of
        the site (its row, its stations' and their connectors' rows) changes."""
        ...


class CatalogSync:
    def __init__(
        self,
        catalog: SiteCatalog,
        versions: SiteVersions,
        uow: StationsUowFactory,
        clock: Clock,
        period_s: float = 0.5,
    ) -> None:
        self.catalog = catalog
        self._versions = versions
        self._uow = uow
        self._clock = clock
        self.period_s = period_s
        self._known: dict[int, Hashable] = {}
        # Each read of sites gets the next number; a site is replaced only by a read that
        # began after the one it came from (a slow reconciliation never undoes an event's).
        self._reads = 0
        self._read_by: dict[int, int] = {}
        self._everything = False
        self._wake = asyncio.Event()
        self.failures = 0

    async def reconcile(self) -> int:
        """Bring the catalog up to date with storage; returns how many sites were read."""
        started = self._clock.monotonic()
        self._everything = False
        versions = await self._versions.versions()
        first = not self._known and not len(self.catalog)
        changed = [
            site_id for site_id, version in versions.items() if self._known.get(site_id) != version
        ]
        read, sites = await self._read(changed)
        if first:
            self.catalog.load(sites)
            self._read_by = dict.fromkeys(self.catalog.site_ids(), read)
        else:
            self._put(read, sites)
            for site_id in self.catalog.site_ids() - versions.keys():
                if self._read_by.get(site_id, 0) < read:
                    self.catalog.remove(site_id)
                    self._read_by.pop(site_id, None)
        self._known = versions
        self.catalog.checked(started)
        return len(sites)

    async def refresh(self, site_ids: Sequence[int]) -> None:
        """Read these sites again now."""
        read, sites = await self._read(site_ids)
        self._put(read, sites)

    def _put(self, read: int, sites: list[Site]) -> None:
        for site in sites:
            if self._read_by.get(site.id, 0) <= read:
                self.catalog.put(site)
                self._read_by[site.id] = read

    async def _read(self, site_ids: Sequence[int]) -> tuple[int, list[Site]]:
        self._reads += 1
        read = self._reads
        found: list[Site] = []
        for start in range(0, len(site_ids), READ_BATCH):
            async with self._uow(read_only=True) as uow:
                batch = await uow.sites.get_many(site_ids[start : start + READ_BATCH])
            found.extend(batch.values())
        return read, found

    def changed_all(self) -> None:
        """Reconcile now, not at the next period."""
        self._everything = True
        self._wake.set()

    async def on_event(self, event: Event) -> None:
        """The bus handler: an event of this node names the site it changed, which is read
        again before the handler returns (so this node's own changes show at once)."""
        if isinstance(event, SitesImported):
            self.changed_all()
        elif isinstance(
            event, ConnectorStatusChanged | StationConnected | StationDisconnected | StationBooted
        ):
            site_id = self.catalog.site_of_station(event.station_id)
            if site_id is None:  # a station the catalog has not seen yet
                self.changed_all()
            else:
                await self.refresh([site_id])

    async def run(self) -> None:
        """Reconcile every `period_s`, or at once when an event asks for it."""
        while True:
            started = self._clock.monotonic()
            try:
                await self.reconcile()
            except asyncio.CancelledError:
                raise
            except Exception:  # storage away: the catalog goes stale and searches use SQL
                self.failures += 1
            wait = started + self.period_s - self._clock.monotonic()
            if wait > 0 and not self._everything:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
