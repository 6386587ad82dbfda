"""Offers, their deliveries, and what the offers engine reads about drivers and chargers."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.core.geo import bounding_boxes, great_circle_m
from voltbook.offers.model import (
    Area,
    Charger,
    DriverProfile,
    Evse,
    Offer,
    OfferDelivery,
    OfferKind,
    OfferStats,
    Trigger,
    Vehicle,
)
from voltbook.storage.tables import (
    connectors,
    driver_positions,
    drivers,
    id_tokens,
    offer_deliveries,
    offers,
    sites,
    stations,
    vehicles,
)
from voltbook.storage.timestamps import as_utc, as_utc_or_none

_O = offers
_D = offer_deliveries
_AVAILABLE = "Available"


class SqlOfferRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, offer: Offer) -> Offer:
        new_id = await self._connection.scalar(
            _O.insert()
            .values(**_values(offer), created_by=offer.created_by, created_at=offer.created_at)
            .returning(_O.c.id)
        )
        return offer.with_changes(id=int(new_id))

    async def get(self, offer_id: int) -> Offer | None:
        row = (await self._connection.execute(sa.select(_O).where(_O.c.id == offer_id))).first()
        return None if row is None else _offer(row._mapping)

    async def save(self, offer: Offer) -> None:
        await self._connection.execute(
            _O.update().where(_O.c.id == offer.id).values(**_values(offer))
        )

    async def page(self, after: int | None, limit: int) -> list[Offer]:
        query = sa.select(_O).order_by(_O.c.id.desc()).limit(limit)
        if after is not None:
            query = query.where(_O.c.id < after)
        return [_offer(row._mapping) for row in await self._connection.execute(query)]

    async def active(self, now: datetime) -> list[Offer]:
        query = sa.select(_O).where(_O.c.ended_at.is_(None), _O.c.ends_at > now).order_by(_O.c.id)
        return [_offer(row._mapping) for row in await self._connection.execute(query)]


def _values(offer: Offer) -> dict[str, Any]:
    return {
        "title": offer.title,
        "kind": offer.kind.value,
        "value": offer.value,
        "lat": offer.area.lat,
        "lon": offer.area.lon,
        "radius_m": offer.area.radius_m,
        "station_ids": ";".join(offer.station_ids) or None,
        "trigger": offer.trigger.value,
        "idle_minutes": offer.idle_minutes,
        "soc_below": offer.soc_below,
        "starts_at": offer.starts_at,
        "ends_at": offer.ends_at,
        "max_per_driver": offer.max_per_driver,
        "max_redemptions": offer.max_redemptions,
        "ended_at": offer.ended_at,
    }


def _offer(row: Any) -> Offer:
    return Offer(
        id=row["id"],
        title=row["title"],
        kind=OfferKind(row["kind"]),
        value=row["value"],
        area=Area(row["lat"], row["lon"], row["radius_m"]),
        station_ids=tuple(s for s in (row["station_ids"] or "").split(";") if s),
        trigger=Trigger(row["trigger"]),
        idle_minutes=row["idle_minutes"],
        soc_below=row["soc_below"],
        starts_at=as_utc(row["starts_at"]),
        ends_at=as_utc(row["ends_at"]),
        max_per_driver=row["max_per_driver"],
        max_redemptions=row["max_redemptions"],
        created_by=row["created_by"],
        created_at=as_utc_or_none(row["created_at"]),
        ended_at=as_utc_or_none(row["ended_at"]),
    )


class SqlDeliveryRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def add(self, delivery: OfferDelivery) -> OfferDelivery:
        new_id = await self._connection.scalar(
            _D.insert()
            .values(
                offer_id=delivery.offer_id,
                driver_id=delivery.driver_id,
                station_id=delivery.station_id,
                channel=delivery.channel,
                sent_at=delivery.sent_at,
            )
            .returning(_D.c.id)
        )
        return OfferDelivery(
            offer_id=delivery.offer_id,
            driver_id=delivery.driver_id,
            station_id=delivery.station_id,
            channel=delivery.channel,
            sent_at=delivery.sent_at,
            id=int(new_id),
        )

    async def set_channel(self, delivery_id: int, channel: str) -> None:
        await self._connection.execute(
            _D.update().where(_D.c.id == delivery_id).values(channel=channel)
        )

    async def get(self, delivery_id: int) -> OfferDelivery | None:
        row = (await self._connection.execute(sa.select(_D).where(_D.c.id == delivery_id))).first()
        return None if row is None else _delivery(row._mapping)

    async def count_for(self, offer_id: int, driver_id: str) -> int:
        return await self._count(_D.c.offer_id == offer_id, _D.c.driver_id == driver_id)

    async def count_since(self, driver_id: str, since: datetime) -> int:
        return await self._count(_D.c.driver_id == driver_id, _D.c.sent_at >= since)

    async def redemptions(self, offer_id: int) -> int:
        return await self._count(_D.c.offer_id == offer_id, _D.c.redeemed_at.is_not(None))

    async def _count(self, *where: Any) -> int:
        found = await self._connection.scalar(
            sa.select(sa.func.count()).select_from(_D).where(*where)
        )
        return int(found or 0)

    async def unredeemed(self, driver_id: str, limit: int) -> list[OfferDelivery]:
        query = (
            sa.select(_D)
            .where(_D.c.driver_id == driver_id, _D.c.redeemed_at.is_(None))
            .order_by(_D.c.sent_at.desc(), _D.c.id.desc())
            .limit(limit)
        )
        return [_delivery(row._mapping) for row in await self._connection.execute(query)]

    async def opened(self, delivery_id: int, at: datetime) -> None:
        await self._connection.execute(
            _D.update().where(_D.c.id == delivery_id, _D.c.opened_at.is_(None)).values(opened_at=at)
        )

    async def redeem(
        self, delivery_id: int, at: datetime, session_id: int, idle_minutes_filled: float
    ) -> bool:
        result = await self._connection.execute(
            _D.update()
            .where(_D.c.id == delivery_id, _D.c.redeemed_at.is_(None))
            .values(redeemed_at=at, session_id=session_id, idle_minutes_filled=idle_minutes_filled)
        )
        return bool(result.rowcount)

    async def stats(self, offer_id: int) -> OfferStats:
        row = (
            await self._connection.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.count(_D.c.opened_at),
                    sa.func.count(_D.c.redeemed_at),
                    sa.func.coalesce(sa.func.sum(_D.c.idle_minutes_filled), 0.0),
                ).where(_D.c.offer_id == offer_id)
            )
        ).one()
        return OfferStats(int(row[0]), int(row[1]), int(row[2]), float(row[3]))


def _delivery(row: Any) -> OfferDelivery:
    return OfferDelivery(
        id=row["id"],
        offer_id=row["offer_id"],
        driver_id=row["driver_id"],
        station_id=row["station_id"],
        channel=row["channel"],
        sent_at=as_utc(row["sent_at"]),
        opened_at=as_utc_or_none(row["opened_at"]),
        redeemed_at=as_utc_or_none(row["redeemed_at"]),
        session_id=row["session_id"],
        idle_minutes_filled=row["idle_minutes_filled"],
    )


class SqlOfferDriverFacts:
    """Drivers, their vehicles and last positions, as the offers engine needs them."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def profile(self, driver_id: str) -> DriverProfile | None:
        row = (
            await self._connection.execute(
                sa.select(
                    drivers.c.consent_offers, drivers.c.quiet_hours, drivers.c.time_zone
                ).where(drivers.c.id == driver_id)
            )
        ).first()
        if row is None:
            return None
        cars = await self._connection.execute(
            sa.select(vehicles.c.id, vehicles.c.standards, vehicles.c.soc_percent)
            .where(vehicles.c.driver_id == driver_id)
            .order_by(vehicles.c.created_at, vehicles.c.id)
        )
        return DriverProfile(
            driver_id=driver_id,
            consent_offers=bool(row.consent_offers),
            quiet_hours=row.quiet_hours,
            time_zone=row.time_zone,
            vehicles=tuple(
                Vehicle(
                    car.id, frozenset(p for p in car.standards.split(";") if p), car.soc_percent
                )
                for car in cars
            ),
        )

    async def consenting(self) -> set[str]:
        found = await self._connection.scalars(
            sa.select(drivers.c.id).where(drivers.c.consent_offers.is_(True))
        )
        return set(found)

    async def near(
        self, lat: float, lon: float, radius_m: float, now: datetime
    ) -> list[tuple[str, float, float]]:
        p = driver_positions
        boxes = sa.or_(
            *(
                sa.and_(
                    p.c.lat.between(box.min_lat, box.max_lat),
                    p.c.lon.between(box.min_lon, box.max_lon),
                )
                for box in bounding_boxes(lat, lon, radius_m)
            )
        )
        rows = await self._connection.execute(
            sa.select(p.c.driver_id, p.c.lat, p.c.lon)
            .join(drivers, drivers.c.id == p.c.driver_id)
            .where(drivers.c.consent_offers.is_(True), p.c.expires_at > now, boxes)
            .order_by(p.c.driver_id)
        )
        return [
            (row.driver_id, row.lat, row.lon)
            for row in rows
            if great_circle_m(lat, lon, row.lat, row.lon) <= radius_m
        ]

    async def position(self, driver_id: str, now: datetime) -> tuple[float, float] | None:
        p = driver_positions
        row = (
            await self._connection.execute(
                sa.select(p.c.lat, p.c.lon).where(p.c.driver_id == driver_id, p.c.expires_at > now)
            )
        ).first()
        return None if row is None else (row.lat, row.lon)

    async def driver_of_id_tag(self, id_tag: str) -> str | None:
        found = await self._connection.scalar(
            sa.select(id_tokens.c.driver_id).where(id_tokens.c.token == id_tag)
        )
        return None if found is None else str(found)


class SqlOfferChargerFacts:
    """Stations with their site's position and their connectors' last reported status."""

    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def within(self, lat: float, lon: float, radius_m: float) -> list[Charger]:
        boxes = sa.or_(
            *(
                sa.and_(
                    sites.c.lat.between(box.min_lat, box.max_lat),
                    sites.c.lon.between(box.min_lon, box.max_lon),
                )
                for box in bounding_boxes(lat, lon, radius_m)
            )
        )
        found = await self._chargers(boxes)
        return [c for c in found if c.distance_m(lat, lon) <= radius_m]

    async def of(self, station_ids: tuple[str, ...]) -> list[Charger]:
        if not station_ids:
            return []
        return await self._chargers(stations.c.id.in_(station_ids))

    async def _chargers(self, where: Any) -> list[Charger]:
        c = connectors
        rows = await self._connection.execute(
            sa.select(
                stations.c.id,
                sites.c.lat,
                sites.c.lon,
                c.c.evse_id,
                c.c.standard,
                c.c.status,
                c.c.status_since,
            )
            .select_from(stations.outerjoin(sites, sites.c.id == stations.c.site_id))
            .outerjoin(c, c.c.station_id == stations.c.id)
            .where(where)
            .order_by(stations.c.id, c.c.evse_id, c.c.connector_id)
        )
        places: dict[str, tuple[float | None, float | None]] = {}
        plugs: defaultdict[str, dict[int, list[Any]]] = defaultdict(dict)
        for row in rows:
            places[row.id] = (row.lat, row.lon)
            if row.evse_id is not None:
                plugs[row.id].setdefault(row.evse_id, []).append(row)
        return [
            Charger(
                station_id,
                lat,
                lon,
                tuple(_evse(evse_id, parts) for evse_id, parts in plugs[station_id].items()),
            )
            for station_id, (lat, lon) in places.items()
        ]


def _evse(evse_id: int, parts: list[Any]) -> Evse:
    """An EVSE with several connector rows takes any of their plugs and is free when one of
    them is reported Available (since the earliest such report)."""
    free = [as_utc_or_none(p.status_since) for p in parts if p.status == _AVAILABLE]
    known = [s for s in free if s is not None]
    return Evse(
        evse_id=evse_id,
        standards=frozenset(p.standard for p in parts if p.standard),
        available=bool(free),
        available_since=min(known) if known else None,
    )
