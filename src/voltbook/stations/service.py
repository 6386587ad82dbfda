"""Use cases of the stations area: find chargers, read a site, import a data set."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from voltbook.core.bus import EventBus
from voltbook.core.errors import NotFound
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
    def __init__(self, uow: StationsUowFactory, bus: EventBus) -> None:
        self._uow = uow
        self._bus = bus

    async def nearby(self, query: NearbyQuery) -> list[NearbySite]:
        """Matching sites within the radius, nearest first by great-circle distance."""
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
