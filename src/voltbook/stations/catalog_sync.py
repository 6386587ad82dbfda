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
        self._dirty: set[int] = set()
        self._everything = False
        self._wake = asyncio.Event()
        self.failures = 0

    async def reconcile(self) -> int:
        """Bring the catalog up to date with storage; returns how many sites were read."""
        started = self._clock.monotonic()
        # What events named so far was committed before now: this reconciliation covers it.
        self._everything = False
        self._dirty.clear()
        versions = await self._versions.versions()
        first = not self._known and not len(self.catalog)
        changed = [
            site_id for site_id, version in versions.items() if self._known.get(site_id) != version
        ]
        sites = await self._read(changed)
        if first:
            self.catalog.load(sites)
        else:
            for site in sites:
                self.catalog.put(site)
            for site_id in self.catalog.site_ids() - versions.keys():
                self.catalog.remove(site_id)
        self._known = versions
        self.catalog.checked(started)
        return len(sites)

    async def refresh_dirty(self) -> int:
        """Read again the sites events named since the last read."""
        dirty, self._dirty = self._dirty, set()
        for site in await self._read(sorted(dirty)):
            self.catalog.put(site)
        return len(dirty)

    async def _read(self, site_ids: Sequence[int]) -> list[Site]:
        found: list[Site] = []
        for start in range(0, len(site_ids), READ_BATCH):
            async with self._uow(read_only=True) as uow:
                batch = await uow.sites.get_many(site_ids[start : start + READ_BATCH])
            found.extend(batch.values())
        return found

    def changed_station(self, station_id: str) -> None:
        site_id = self.catalog.site_of_station(station_id)
        if site_id is None:  # a station the catalog has not seen yet: reconcile
            self._everything = True
        else:
            self._dirty.add(site_id)
        self._wake.set()

    def changed_all(self) -> None:
        self._everything = True
        self._wake.set()

    async def on_event(self, event: Event) -> None:
        """The bus handler: which sites an event of the stations area changed."""
        if isinstance(event, SitesImported):
            self.changed_all()
        elif isinstance(
            event, ConnectorStatusChanged | StationConnected | StationDisconnected | StationBooted
        ):
            self.changed_station(event.station_id)

    async def run(self) -> None:
        """Reconcile every `period_s`, and read what events name as soon as they do."""
        last = -self.period_s
        while True:
            wait = last + self.period_s - self._clock.monotonic()
            if wait > 0 and not self._everything:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()
            try:
                if self._everything or self._clock.monotonic() >= last + self.period_s:
                    last = self._clock.monotonic()
                    await self.reconcile()
                elif self._dirty:
                    await self.refresh_dirty()
            except asyncio.CancelledError:
                raise
            except Exception:  # storage away: the catalog goes stale and searches use SQL
                self.failures += 1
                await asyncio.sleep(min(self.period_s, 0.1))
