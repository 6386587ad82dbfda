"""Use cases of the stations area: find chargers, read a site, import a data set."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import NotFound
from voltbook.stations.catalog import SiteCatalog
from voltbook.stations.events import SitesImported
from voltbook.stations.model import NearbyQuery, NearbySite, Site
from voltbook.stations.ports import SitePlan, StationsUowFactory, UpsertCounts

IMPORT_BATCH = 500


@dataclass(frozen=True, slots=True)
class ImportReport:
    created: int
    updated: int
    skipped: int


class StationService:
    def __init__(
        self,
        uow: StationsUowFactory,
        bus: EventBus,
        catalog: SiteCatalog | None = None,
        clock: Clock | None = None,
    ) -> None:
        """`catalog` (with the `clock` it is checked by): answer searches from memory while
        it is fresh (docs/adr/0022); from the database otherwise."""
        self._uow = uow
        self._bus = bus
        self._catalog = catalog
        self._clock = clock

    async def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        """Matching sites within the radius, nearest first by great-circle distance."""
        catalog = self._catalog
        if catalog is not None and self._clock and catalog.fresh(self._clock.monotonic()):
            return catalog.nearby(query)
        return await self.nearby_in_storage(query)

    async def nearby_in_storage(self, query: NearbyQuery) -> list[NearbySite]:
        """`nearby` read from the database (ADR 0001), whatever the catalog holds."""
        async with self._uow(read_only=True) as uow:
            return await uow.sites.nearby(query)

    async def get_site(self, site_id: int) -> Site:
        async with self._uow(read_only=True) as uow:
            found = await uow.sites.get_many([site_id])
        if site_id not in found:
            raise NotFound(f"site {site_id} does not exist")
        return found[site_id]

    async def import_sites(
        self,
        plans: Iterable[SitePlan],
        *,
        source: str,
        skipped: int = 0,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Create or update sites in batches; each batch is its own transaction."""
        total = UpsertCounts()
        batch: list[SitePlan] = []

        async def flush() -> None:
            nonlocal total
            async with self._uow() as uow:
                counts = await uow.sites.upsert_imported(batch)
                await uow.commit()
            total = UpsertCounts(total.created + counts.created, total.updated + counts.updated)
            if progress is not None:
                progress(len(batch))
            batch.clear()

        for plan in plans:
            batch.append(plan)
            if len(batch) >= IMPORT_BATCH:
                await flush()
        if batch:
            await flush()
        report = ImportReport(total.created, total.updated, skipped)
        await self._bus.publish(SitesImported(source, report.created, report.updated, skipped))
        return report
