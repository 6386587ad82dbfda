"""Places matched against the imported sites, in SQL."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.stations.places import Place
from voltbook.storage.tables import sites


def _like(text: str) -> str:
    return text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class SqlPlaceRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def matching(self, text: str, limit: int) -> list[Place]:
        prefix, inside = _like(text) + "%", "%" + _like(text) + "%"
        lat, lon = sa.func.avg(sites.c.lat), sa.func.avg(sites.c.lon)
        queries = [
            (
                "postal_code",
                sa.select(sites.c.postal_code, sites.c.city, lat, lon)
                .where(sa.func.lower(sites.c.postal_code).like(prefix, escape="\\"))
                .group_by(sites.c.postal_code, sites.c.city),
            ),
            (
                "city",
                sa.select(sites.c.city, sites.c.region, lat, lon)
                .where(sa.func.lower(sites.c.city).like(prefix, escape="\\"))
                .group_by(sites.c.city, sites.c.region),
            ),
            (
                "address",
                sa.select(sites.c.address, sites.c.city, sites.c.lat, sites.c.lon).where(
                    sa.func.lower(sites.c.address).like(inside, escape="\\")
                ),
            ),
        ]
        found: list[Place] = []
        for kind, query in queries:
            if len(found) >= limit:
                break
            rows = await self._connection.execute(query.limit(limit - len(found)))
            for first, second, at_lat, at_lon in rows:
                label = ", ".join(part for part in (first, second) if part)
                found.append(Place(label, kind, float(at_lat), float(at_lon)))
        return found
