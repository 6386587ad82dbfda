"""Handing a booking to its charger, and what follows when the charger refuses, falls
silent, drops the hold or loses the connector: a move to another fitting connector of the
site (the driver told), else a failure with nearby alternatives; no-shows expire."""

from __future__ import annotations

import asyncio
from dataclasses import replace

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.reservations.events import (
    ReservationEvent,
    ReservationExpired,
    ReservationFailed,
    ReservationHeld,
    ReservationMoved,
    ReservationStartingSoon,
)
from voltbook.reservations.model import Alternative, Change, Reservation, Rules, Status
from voltbook.reservations.ports import (
    NO_ANSWER,
    Alternatives,
    ChargerHold,
    JobKind,
    ReservationRepository,
    ReservationsUowFactory,
    SlotTaken,
)


class HandOff:
    def __init__(
        self,
        uow: ReservationsUowFactory,
        hold: ChargerHold,
        clock: Clock,
        bus: EventBus,
        rules: Rules,
        alternatives: Alternatives | None,
        wake: asyncio.Event,
    ) -> None:
        self._uow = uow
        self._hold = hold
        self._clock = clock
        self._bus = bus
        self.rules = rules
        self._alternatives = alternatives
        self.wake = wake  # set when a job falls due now

    async def hand_off(self, reservation: Reservation, *, last_try: bool = False) -> bool:
        answer = await self._hold.reserve(reservation)
        if answer == NO_ANSWER:
            # The charger is offline or silent: no connector of it is any better. Another
            # station of the site may take the booking; else it stays, and the hand-off is
            # tried again a few times (at once when the station reconnects) before it fails.
            why = "charger did not answer"
            if last_try:
                await self.move_or_fail(reservation, why, other_stations_only=True)
            elif not await self._try_move(reservation, why, other_stations_only=True):
                return False
            await self._unsure_hold(reservation)
            return True
        if answer != "Accepted":
            await self.move_or_fail(reservation, f"charger answered {answer}")
            return True
        async with self._uow() as uow:
            # Re-read: a cancel or a move may have happened while the charger answered.
            fresh = await uow.reservations.get(reservation.id, lock=True)
            if (
                fresh is None
                or fresh.status is not Status.SCHEDULED
                or (fresh.connector != reservation.connector)
            ):
                # The charger has just accepted this one, whatever the history says.
                released = await self.release_stale_hold(
                    uow.reservations, reservation.id, reservation.station_id, fresh
                )
                await uow.commit()
                if released:
                    self.wake.set()
                return True
            held = fresh.apply(Change.HELD, self._clock.now(), "charger holds the connector")
            await uow.reservations.save(held)
            await uow.commit()
        await self._publish(ReservationHeld(held, "charger holds the connector"))
        first_hold = sum(h.change is Change.HELD for h in held.history) == 1
        if first_hold and held.starts_at > self._clock.now():  # a slot for now has begun
            await self._publish(ReservationStartingSoon(held, "the slot starts soon"))
        return True

    async def _unsure_hold(self, asked: Reservation) -> None:
        """A ReserveNow went unanswered, yet the charger may hold the booking all the same
        (its answer lost on the way): once the booking has left that station, the charger
        is asked to let go (a CancelReservation of an id it does not hold is harmless)."""
        if asked.held_by == asked.station_id:
            return  # it held the booking before: the move or the failure released it
        async with self._uow() as uow:
            fresh = await uow.reservations.get(asked.id, lock=True)
            released = await self.release_stale_hold(
                uow.reservations, asked.id, asked.station_id, fresh
            )
            await uow.commit()
        if released:
            self.wake.set()

    async def release_stale_hold(
        self,
        repo: ReservationRepository,
        reservation_id: int,
        held_by: str | None,
        now_is: Reservation | None,
    ) -> bool:
        """The charger of station `held_by` (None: no charger) may hold the booking, which is
        `now_is` after a change: schedule its release unless the booking stays live at that
        station, where the next ReserveNow of the same id replaces the hold (OCPP replaces a
        reservation with its id). True when a release was scheduled: wake the runner once
        the transaction is committed."""
        if held_by is None or (
            now_is is not None and now_is.status.live and now_is.station_id == held_by
        ):
            return False
        await repo.schedule(reservation_id, JobKind.RELEASE, self._clock.now(), held_by)
        return True

    async def may_hold(self, repo: ReservationRepository, booking: Reservation) -> str | None:
        """The station whose charger may hold this booking (read before its jobs are
        dropped): the one that last accepted it, else its own station while a hand-off
        there has gone out without a recorded answer (a silent charger, or a node killed
        before it could write the charger's Accepted)."""
        if booking.held_by is not None:
            return booking.held_by
        return booking.station_id if await repo.hand_off_tried(booking.id) else None

    async def expire(self, reservation: Reservation) -> None:
        now = self._clock.now()
        async with self._uow() as uow:
            fresh = await uow.reservations.get(reservation.id, lock=True)
            if fresh is None or not fresh.status.live:
                return
            expired = fresh.apply(Change.EXPIRED, now, "no session within the grace period")
            held_by = await self.may_hold(uow.reservations, fresh)
            await uow.reservations.save(expired)
            await uow.reservations.drop_jobs(expired.id, (JobKind.HAND_OFF,))
            # 1.6 has no expiry message of its own: voltbook frees the connector itself.
            released = await self.release_stale_hold(uow.reservations, expired.id, held_by, expired)
            await uow.commit()
        if released:
            self.wake.set()
        await self._publish(ReservationExpired(expired, "no-show"))

    async def move_or_fail(
        self, reservation: Reservation, reason: str, *, other_stations_only: bool = False
    ) -> None:
        """Move the booking to another fitting, free EVSE at the site (of another station
        with `other_stations_only`), or fail it."""
        if await self._try_move(reservation, reason, other_stations_only=other_stations_only):
            return
        # Worked out outside any write transaction: it reads across the whole network.
        nearest: list[Alternative] = []
        if self._alternatives is not None:
            async with self._uow(read_only=True) as uow:
                plugs = await plugs_of(uow.reservations, reservation)
            nearest = await self._alternatives.near(reservation.station_id, plugs, 3)
        alternative = "charger" if other_stations_only else "connector"
        why = f"{reason}; no other fitting {alternative} at the site"
        if nearest:
            why += "; free nearby: " + ", ".join(
                f"{a.station_id} {a.name} ({a.distance_m:.0f} m)" for a in nearest
            )
        now = self._clock.now()
        async with self._uow() as uow:
            repo = uow.reservations
            fresh = await repo.get(reservation.id, lock=True)
            if fresh is None or not fresh.status.live or fresh.connector != reservation.connector:
                return
            failed = replace(fresh.apply(Change.FAILED, now, why), alternatives=tuple(nearest))
            await repo.save(failed)
            await repo.drop_jobs(failed.id, (JobKind.HAND_OFF, JobKind.NO_SHOW))
            released = await self.release_stale_hold(repo, failed.id, fresh.held_by, failed)
            await uow.commit()
        if released:
            self.wake.set()
        await self._publish(ReservationFailed(failed, why))

    async def _try_move(
        self, reservation: Reservation, reason: str, *, other_stations_only: bool = False
    ) -> bool:
        """True when the booking moved, or changed meanwhile so that this news is stale."""
        now = self._clock.now()
        async with self._uow() as uow:
            repo = uow.reservations
            fresh = await repo.get(reservation.id, lock=True)
            if fresh is None or not fresh.status.live or fresh.connector != reservation.connector:
                return True
            plugs = await plugs_of(repo, fresh)
            for evse in await repo.site_evses(fresh.station_id):
                if evse.ref in fresh.tried or not evse.usable:
                    continue
                if other_stations_only and evse.station_id == fresh.station_id:
                    continue
                if plugs and evse.standards and not plugs & evse.standards:
                    continue
                busy = await repo.busy(evse.station_id, fresh.starts_at, fresh.ends_at)
                if any(b.evse_id == evse.evse_id for b in busy):
                    continue
                moved = fresh.moved_to(evse.station_id, evse.evse_id, now, reason)
                try:
                    await repo.save(moved)
                except SlotTaken:
                    continue
                await repo.drop_jobs(moved.id, (JobKind.HAND_OFF,))
                await repo.schedule(moved.id, JobKind.HAND_OFF, now)
                await self.release_stale_hold(repo, moved.id, fresh.held_by, moved)
                await uow.commit()
                await self._publish(ReservationMoved(moved, reason))
                self.wake.set()
                return True
        return False

    async def _publish(self, event: ReservationEvent) -> None:
        await self._bus.publish(event)


async def plugs_of(repo: ReservationRepository, reservation: Reservation) -> frozenset[str]:
    """What an alternative must offer: the vehicle's plugs, else the booked EVSE's."""
    if reservation.vehicle_id is not None:
        plugs = await repo.vehicle_standards(reservation.driver_id, reservation.vehicle_id)
        if plugs:
            return plugs
    site = await repo.site_evses(reservation.station_id)
    current = next((e for e in site if e.ref == reservation.connector), None)
    return current.standards if current else frozenset()
