"""Use cases of charging: authorize an id tag, start, meter and stop sessions.

Stations resend what they queued while offline with new message ids; every use case here
is idempotent on the message's content, so a replay changes nothing.

Meter samples are the bulk of OCPP traffic. A running session's live figures are kept in
memory and written at most once per `flush` (bootstrap calls it every second), in one
transaction for all sessions; starts and stops are written at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from voltbook.charging.events import (
    SessionIdentified,
    SessionMetered,
    SessionSocMeasured,
    SessionStarted,
    SessionStopped,
)
from voltbook.charging.model import Authorization, ChargingSession, MeterSample, SessionFilter
from voltbook.charging.ports import ChargingUowFactory, StartGuard
from voltbook.charging.series import SampleSink, newer_samples
from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict, NotFound


class ChargingService:
    def __init__(
        self,
        uow: ChargingUowFactory,
        clock: Clock,
        bus: EventBus,
        *,
        accept_unknown_id_tags: bool = False,
        guard: StartGuard | None = None,
        series: SampleSink | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._free_vend = accept_unknown_id_tags
        self.guard = guard  # reservations may refuse a start on a connector held for others
        self._series = series  # keeps each session's meter values (charging/series.py)
        self._live: dict[tuple[str, str], ChargingSession] = {}
        self._dirty: set[tuple[str, str]] = set()

    async def tag_status(self, id_tag: str) -> Authorization:
        """The id tag's own standing, wherever it is presented."""
        async with self._uow(read_only=True) as uow:
            status = await uow.sessions.id_tag_status(id_tag)
        if status is None:
            return Authorization.ACCEPTED if self._free_vend else Authorization.INVALID
        return Authorization(status)

    async def authorize(self, station_id: str, id_tag: str) -> Authorization:
        """Whether an id tag may charge at the station now: its own standing, and not while
        reservations hold every usable connector of the station for others."""
        return await self._standing_and_holds(
            id_tag, lambda guard: guard.may_authorize(station_id, id_tag, self._clock.now())
        )

    async def _admit(
        self, station_id: str, evse_id: int, id_tag: str, at: datetime
    ) -> Authorization:
        """Whether a session of this id tag may go on at this EVSE (refused: the station
        stops the session)."""
        return await self._standing_and_holds(
            id_tag, lambda guard: guard.may_start(station_id, evse_id, id_tag, at)
        )

    async def _standing_and_holds(
        self, id_tag: str, holds_allow: Callable[[StartGuard], Awaitable[bool]]
    ) -> Authorization:
        """The tag's own standing; an accepted tag the reservations' guard refuses is
        HELD_FOR_OTHERS."""
        status = await self.tag_status(id_tag)
        if (
            status is Authorization.ACCEPTED
            and self.guard is not None
            and not await holds_allow(self.guard)
        ):
            return Authorization.HELD_FOR_OTHERS
        return status

    async def start(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int | None,
        id_tag: str | None,
        meter_start_wh: float,
        at: datetime,
        *,
        reservation_id: int | None = None,
        external_id: str | None = None,
    ) -> tuple[ChargingSession, Authorization]:
        """Record a started session (the station has started it already); replays return it.

        A session begun without an id tag (OCPP 2.0.1, cable first) has nothing to refuse
        yet: its tag is checked by `identify` when it arrives."""
        authorization = (
            await self._admit(station_id, evse_id, id_tag, at) if id_tag else Authorization.ACCEPTED
        )
        async with self._uow() as uow:
            existing = (
                await uow.sessions.get(station_id, external_id)
                if external_id
                else await uow.sessions.find_start(station_id, evse_id, at, id_tag)
            )
            if existing is not None:
                return existing, authorization
            session = await uow.sessions.add(
                ChargingSession(
                    id=0,
                    station_id=station_id,
                    evse_id=evse_id,
                    connector_id=connector_id,
                    id_tag=id_tag,
                    started_at=at,
                    meter_start_wh=meter_start_wh,
                    external_id=external_id,
                    reservation_id=reservation_id,
                )
            )
            await uow.commit()
        await self._bus.publish(
            SessionStarted(session.id, station_id, evse_id, id_tag, reservation_id, at)
        )
        return session, authorization

    async def identify(
        self, station_id: str, reference: str, id_tag: str, at: datetime
    ) -> Authorization:
        """An id tag reported for a session already running (OCPP 2.0.1: a transaction
        begun before the driver identified): checked as at a start, at the session's EVSE,
        and again each time the station repeats it. The session's first tag is recorded;
        accepted, it is announced (SessionIdentified), so that it fulfils the holder's
        booking as a start with it would have."""
        session = await self.get(station_id, reference)
        if session is None or session.id_tag not in (None, id_tag):
            return await self.tag_status(id_tag)  # e.g. another card that stops the session
        authorization = await self._admit(station_id, session.evse_id, id_tag, at)
        if session.id_tag is not None:
            return authorization
        key = (station_id, session.reference)
        async with self._uow() as uow:
            stored = await uow.sessions.get(station_id, reference)
            if stored is None or stored.id_tag is not None:
                return authorization  # told already (another node, or a replay)
            newest = self._live.get(key, stored) if stored.active else stored
            await uow.sessions.save(replace(newest, id_tag=id_tag))
            await uow.commit()
        if key in self._live:
            self._live[key] = replace(self._live[key], id_tag=id_tag)
        if authorization is Authorization.ACCEPTED:
            await self._bus.publish(
                SessionIdentified(
                    session.id,
                    station_id,
                    session.evse_id,
                    id_tag,
                    session.reservation_id,
                    at,
                )
            )
        return authorization

    async def meter(
        self,
        station_id: str,
        reference: str,
        samples: list[MeterSample],
        *,
        seq_no: int | None = None,
    ) -> ChargingSession | None:
        """Apply newer samples to a running session; older or repeated ones change nothing."""
        session = await self._running(station_id, reference)
        if session is None or not session.active or _seen(session, seq_no):
            return session
        if self._series is not None:
            self._series.note(session.id, newer_samples(session, samples))
        updated = session.with_samples(samples)
        if seq_no is not None:
            updated = replace(updated, last_seq_no=seq_no)
        if updated == session:
            return session
        key = (station_id, session.reference)
        self._live[key] = updated
        self._dirty.add(key)
        if updated.last_sample_at != session.last_sample_at:
            await self._bus.publish(
                SessionMetered(
                    updated.id,
                    station_id,
                    updated.energy_wh,
                    updated.power_w,
                    updated.soc_percent,
                    updated.last_sample_at or self._clock.now(),
                )
            )
            soc = _newest_soc(samples, session.last_sample_at)
            if soc is not None:
                await self._bus.publish(
                    SessionSocMeasured(
                        updated.id,
                        station_id,
                        updated.evse_id,
                        updated.id_tag,
                        updated.reservation_id,
                        updated.started_at,
                        soc.soc_percent or 0.0,
                        soc.at,
                    )
                )
        return updated

    async def flush(self) -> int:
        """Write the live figures of sessions metered since the last flush; returns how many."""
        if not self._dirty:
            return 0
        keys = list(self._dirty)
        self._dirty.clear()
        batch = [self._live[key] for key in keys if key in self._live]
        try:
            async with self._uow() as uow:
                await uow.sessions.save_meters(batch)
                await uow.commit()
        except BaseException:
            self._dirty.update(keys)  # written next time
            raise
        return len(batch)

    async def _running(self, station_id: str, reference: str) -> ChargingSession | None:
        live = self._live.get((station_id, reference))
        if live is not None:
            return live
        async with self._uow(read_only=True) as uow:
            session = await uow.sessions.get(station_id, reference)
        if session is not None and session.active:
            self._live[(station_id, session.reference)] = session
        return session

    async def stop(
        self,
        station_id: str,
        reference: str,
        meter_stop_wh: float | None,
        at: datetime,
        reason: str | None,
        samples: list[MeterSample] | None = None,
    ) -> ChargingSession | None:
        """Close a session; a repeated stop changes nothing. None for an unknown session."""
        key = (station_id, reference)
        async with self._uow() as uow:
            session = self._live.get(key) or await uow.sessions.get(station_id, reference)
            if session is None or not session.active:
                return session
            fresh = newer_samples(session, samples or [])
            if meter_stop_wh is not None and (not fresh or fresh[-1].at < at):
                # The reading at the stop is the series' last point.
                last = session.last_sample_at
                if last is None or last < at:
                    fresh.append(MeterSample(at, energy_wh=meter_stop_wh))
            finished = session.with_samples(samples or []).stopped(at, meter_stop_wh, reason)
            await uow.sessions.save(finished)
            await uow.commit()
        if self._series is not None:
            self._series.note(finished.id, fresh)
        self._live.pop(key, None)
        self._dirty.discard(key)
        await self._bus.publish(
            SessionStopped(finished.id, station_id, finished.energy_wh, reason, at)
        )
        return finished

    async def get(self, station_id: str, reference: str) -> ChargingSession | None:
        live = self._live.get((station_id, reference))
        if live is not None:
            return live
        async with self._uow(read_only=True) as uow:
            return await uow.sessions.get(station_id, reference)

    # --- operators ------------------------------------------------------------------------

    async def find(
        self, where: SessionFilter, before: int | None, limit: int
    ) -> list[ChargingSession]:
        """Sessions newest first, page by page (live figures as of the last flush)."""
        async with self._uow(read_only=True) as uow:
            found = await uow.sessions.page(where, before, min(limit, 10_000))
        return [self._live.get((s.station_id, s.reference), s) for s in found]

    async def by_id(self, session_id: int) -> ChargingSession:
        async with self._uow(read_only=True) as uow:
            session = await uow.sessions.by_id(session_id)
        if session is None:
            raise NotFound(f"session {session_id} does not exist")
        return self._live.get((session.station_id, session.reference), session)

    async def close(self, session_id: int, reason: str) -> ChargingSession:
        """Close a session the station never reported the end of, as of now, with the
        operator's reason; its energy is what the last meter reading said."""
        session = await self.by_id(session_id)
        if not session.active:
            raise Conflict(f"session {session_id} has ended already")
        closed = await self.stop(
            session.station_id, session.reference, None, self._clock.now(), reason
        )
        assert closed is not None
        return closed


def _newest_soc(samples: list[MeterSample], after: datetime | None) -> MeterSample | None:
    """The newest sample carrying a SoC that is newer than `after`, if any."""
    fresh = [s for s in samples if s.soc_percent is not None and (after is None or s.at > after)]
    return max(fresh, key=lambda s: s.at) if fresh else None


def _seen(session: ChargingSession, seq_no: int | None) -> bool:
    return seq_no is not None and session.last_seq_no is not None and seq_no <= session.last_seq_no
