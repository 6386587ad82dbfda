"""The console's figures in SQL: counts of today's sessions, bookings, no-shows and offers,
and one offer's deliveries."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from voltbook.console_figures import DayCounts, Delivery
from voltbook.storage.tables import (
    charging_sessions,
    offer_deliveries,
    reservation_history,
    reservations,
)
from voltbook.storage.timestamps import as_utc

_S = charging_sessions
_D = offer_deliveries


def _within(
    column: sa.ColumnElement[datetime], start: datetime, end: datetime
) -> sa.ColumnElement[bool]:
    return sa.and_(column >= start, column < end)


def _count_where(condition: sa.ColumnElement[bool]) -> sa.ColumnElement[int]:
    return sa.func.coalesce(sa.func.sum(sa.case((condition, 1), else_=0)), 0)


class SqlFiguresRepository:
    def __init__(self, connection: AsyncConnection) -> None:
        self._connection = connection

    async def day_counts(self, start: datetime, end: datetime) -> DayCounts:
        c = self._connection
        sessions = (
            await c.execute(
                sa.select(
                    sa.func.count(), sa.func.coalesce(sa.func.sum(_S.c.energy_wh), 0.0)
                ).where(_within(_S.c.started_at, start, end))
            )
        ).one()
        bookings = await c.scalar(
            sa.select(sa.func.count()).where(_within(reservations.c.created_at, start, end))
        )
        no_shows = await c.scalar(
            sa.select(sa.func.count()).where(
                reservation_history.c.change == "expired",
                _within(reservation_history.c.at, start, end),
            )
        )
        offers = (
            await c.execute(
                sa.select(
                    _count_where(_within(_D.c.sent_at, start, end)),
                    _count_where(_within(_D.c.opened_at, start, end)),
                    _count_where(_within(_D.c.redeemed_at, start, end)),
                    sa.func.coalesce(
                        sa.func.sum(
                            sa.case(
                                (_within(_D.c.redeemed_at, start, end), _D.c.idle_minutes_filled),
                                else_=0.0,
                            )
                        ),
                        0.0,
                    ),
                ).where(
                    sa.or_(
                        _within(_D.c.sent_at, start, end),
                        _within(_D.c.opened_at, start, end),
                        _within(_D.c.redeemed_at, start, end),
                    )
                )
            )
        ).one()
        return DayCounts(
            sessions=int(sessions[0]),
            energy_wh=float(sessions[1]),
            bookings=int(bookings or 0),
            no_shows=int(no_shows or 0),
            offers_sent=int(offers[0]),
            offers_opened=int(offers[1]),
            offers_redeemed=int(offers[2]),
            idle_minutes_filled=float(offers[3] or 0.0),
        )

    async def deliveries(self, offer_id: int, start: datetime, end: datetime) -> list[Delivery]:
        rows = await self._connection.execute(
            sa.select(_D.c.sent_at, _D.c.opened_at, _D.c.redeemed_at, _D.c.idle_minutes_filled)
            .where(
                _D.c.offer_id == offer_id,
                sa.or_(
                    _within(_D.c.sent_at, start, end),
                    _within(_D.c.opened_at, start, end),
                    _within(_D.c.redeemed_at, start, end),
                ),
            )
            .order_by(_D.c.id)
        )
        return [
            Delivery(
                as_utc(r.sent_at),
                None if r.opened_at is None else as_utc(r.opened_at),
                None if r.redeemed_at is None else as_utc(r.redeemed_at),
                r.idle_minutes_filled,
            )
            for r in rows
        ]
