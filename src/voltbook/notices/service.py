"""Use cases of telling drivers things: the outbox, followed topics, live or Web Push."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from voltbook.core.bus import EventBus
from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict
from voltbook.core.geo import great_circle_m
from voltbook.core.worker import SerialWorker
from voltbook.notices.events import NoticeQueued, StationStatusBroadcast
from voltbook.notices.model import (
    AreaTopic,
    Notice,
    ReservationsTopic,
    StationTopic,
    Topic,
    Urgency,
    parse_topic,
)
from voltbook.notices.ports import NoticesUowFactory, Presence

MAX_TOPICS_PER_DRIVER = 50
REPLAY_LIMIT = 500


class Pusher(Protocol):
    async def push(self, driver_id: str, payload: bytes, ttl_s: int, urgency: Urgency) -> int:
        """Sends a payload to every Web Push subscription of a driver; returns how many took
        it."""
        ...

    async def subscribed(self, driver_ids: list[str]) -> set[str]:
        """Which of the drivers have a browser subscribed at all."""
        ...


@dataclass(frozen=True, slots=True)
class NoticeAsk:
    """A notice to make: for whom, what, how urgent."""

    driver_id: str
    kind: str
    payload: dict[str, Any]
    urgency: Urgency = Urgency.NORMAL


class NoticeService:
    def __init__(
        self,
        uow: NoticesUowFactory,
        clock: Clock,
        bus: EventBus,
        presence: Presence,
        pusher: Pusher | None = None,
        *,
        retention: timedelta = timedelta(hours=48),
        push_ttl_s: int = 3600,
        worker: SerialWorker | None = None,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._bus = bus
        self._presence = presence
        self._pusher = pusher
        self._retention = retention
        self._push_ttl = push_ttl_s
        self._push_slots = asyncio.Semaphore(16)  # pushes in flight at once
        self.worker = worker or SerialWorker()
        """Follow-up work of events (notices to make), in event order, off the caller's path."""

    # --- the outbox -------------------------------------------------------------------------

    async def notify(
        self, driver_id: str, kind: str, payload: dict[str, Any], urgency: Urgency = Urgency.NORMAL
    ) -> Notice:
        """Queue a notice: the next number in the driver's sequence, live if the app is open
        anywhere, else Web Push. Kept for the replay window either way."""
        [notice] = await self.notify_many([driver_id], kind, payload, urgency)
        return notice

    async def notify_many(
        self,
        driver_ids: list[str],
        kind: str,
        payload: dict[str, Any],
        urgency: Urgency = Urgency.NORMAL,
    ) -> list[Notice]:
        """The same notice to several drivers, each in their own sequence, in one transaction."""
        return await self.notify_each([NoticeAsk(d, kind, payload, urgency) for d in driver_ids])

    async def notify_each(self, asks: list[NoticeAsk]) -> list[Notice]:
        """Several notices (a driver may have more than one) in one transaction; each
        driver's take the next numbers of their sequence in the order given."""
        if not asks:
            return []
        now = self._clock.now()
        # Round n holds every driver's n-th notice: one numbering statement per round.
        rounds: list[list[NoticeAsk]] = []
        seen: dict[str, int] = {}
        for ask in asks:
            n = seen[ask.driver_id] = seen.get(ask.driver_id, -1) + 1
            if n == len(rounds):
                rounds.append([])
            rounds[n].append(ask)
        made: list[Notice] = []
        async with self._uow() as uow:
            for round_ in rounds:
                seqs = await uow.notices.next_seqs([a.driver_id for a in round_])
                made += [
                    Notice(a.driver_id, seqs[a.driver_id], a.kind, a.payload, a.urgency, now,
                           now + self._retention)
                    for a in round_
                    if a.driver_id in seqs  # an account deleted meanwhile hears nothing
                ]  # fmt: skip
            await uow.notices.add_many(made)
            await uow.commit()
        for notice in made:
            await self._bus.publish(
                NoticeQueued(notice.driver_id, notice.seq, notice.kind, notice.payload)
            )
        if self._pusher is not None:
            await self._push_closed(made)
        return made

    async def _push_closed(self, made: list[Notice]) -> None:
        """Web Push for the notices whose driver has no app open, where a browser listens."""
        assert self._pusher is not None
        offline = [n for n in made if not await self._presence.online(n.driver_id)]
        listening = await self._pusher.subscribed(sorted({n.driver_id for n in offline}))
        offline = [n for n in offline if n.driver_id in listening]
        if not offline:
            return
        pushed = await asyncio.gather(*(self._push(n) for n in offline))
        done = [(n.driver_id, n.seq) for n, ok in zip(offline, pushed, strict=True) if ok]
        if done:
            async with self._uow() as uow:
                await uow.notices.mark_pushed(done, self._clock.now())
                await uow.commit()

    async def _push(self, notice: Notice) -> bool:
        assert self._pusher is not None
        body = json.dumps(notice.message(), separators=(",", ":")).encode()
        async with self._push_slots:
            try:
                return (
                    await self._pusher.push(notice.driver_id, body, self._push_ttl, notice.urgency)
                    > 0
                )
            except Exception:
                return False

    async def missed(self, driver_id: str, since: int) -> list[Notice]:
        """What a reconnecting app has not seen: notices after `since`, oldest first."""
        async with self._uow(read_only=True) as uow:
            return await uow.notices.after(driver_id, since, self._clock.now(), REPLAY_LIMIT)

    async def latest_seq(self, driver_id: str) -> int:
        async with self._uow(read_only=True) as uow:
            return await uow.notices.latest_seq(driver_id)

    async def ack(self, driver_id: str, seq: int) -> bool:
        async with self._uow() as uow:
            found = await uow.notices.ack(driver_id, seq, self._clock.now())
            await uow.commit()
        return found

    async def purge(self) -> int:
        async with self._uow() as uow:
            gone = await uow.notices.purge(self._clock.now())
            await uow.commit()
        return gone

    # --- topics -----------------------------------------------------------------------------

    async def follow(self, driver_id: str, raw: str) -> Topic:
        """Follow a topic (kept while the app is closed); InvalidInput for a bad one."""
        topic = parse_topic(raw)
        async with self._uow() as uow:
            followed = await uow.topics.of_driver(driver_id)
            if str(topic) not in followed:
                if len(followed) >= MAX_TOPICS_PER_DRIVER:
                    raise Conflict(f"a driver follows at most {MAX_TOPICS_PER_DRIVER} topics")
                await uow.topics.add(driver_id, str(topic), self._clock.now())
                await uow.commit()
        return topic

    async def unfollow(self, driver_id: str, raw: str) -> Topic:
        topic = parse_topic(raw)
        async with self._uow() as uow:
            await uow.topics.remove(driver_id, str(topic))
            await uow.commit()
        return topic

    async def followed(self, driver_id: str) -> list[Topic]:
        async with self._uow(read_only=True) as uow:
            return [parse_topic(raw) for raw in await uow.topics.of_driver(driver_id)]

    # --- what happens in the network ---------------------------------------------------------

    async def station_status(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int,
        status: str,
        at: datetime,
        position: tuple[float, float] | None,
    ) -> None:
        """Live channels following the station or its area hear it at once; followers whose
        app is closed get a notice (and so a Web Push)."""
        broadcast = await self.broadcast_status(
            station_id, evse_id, connector_id, status, at, position
        )
        await self.tell_followers(broadcast)

    async def broadcast_status(
        self,
        station_id: str,
        evse_id: int,
        connector_id: int,
        status: str,
        at: datetime,
        position: tuple[float, float] | None,
    ) -> StationStatusBroadcast:
        """Tell the live channels (on every node) following the station or its area."""
        lat, lon = position if position is not None else (None, None)
        broadcast = StationStatusBroadcast(station_id, evse_id, connector_id, status, at, lat, lon)
        await self._bus.publish(broadcast)
        return broadcast

    async def tell_followers(self, broadcast: StationStatusBroadcast) -> None:
        """Followers of the station or of an area around it whose app is closed get a notice."""
        position = (
            (broadcast.lat, broadcast.lon)
            if broadcast.lat is not None and broadcast.lon is not None
            else None
        )
        async with self._uow(read_only=True) as uow:
            topic = str(StationTopic(broadcast.station_id))
            followers = {d for d, _ in await uow.topics.followers([topic])}
            if position is not None:
                for driver_id, raw in await uow.topics.area_topics():
                    area = parse_topic(raw)
                    if isinstance(area, AreaTopic) and _inside(area, position):
                        followers.add(driver_id)
        payload = {k: v for k, v in broadcast.message().items() if k != "type"}
        offline = [d for d in sorted(followers) if not await self._presence.online(d)]
        await self.notify_many(offline, "station.status", payload, Urgency.LOW)

    async def to_staff(self, kind: str, payload: dict[str, Any], urgency: Urgency) -> int:
        """Operators and admins each get the notice (alarms)."""
        async with self._uow(read_only=True) as uow:
            staff = await uow.notices.staff_ids()
        return len(await self.notify_many(staff, kind, payload, urgency))


def _inside(area: AreaTopic, position: tuple[float, float]) -> bool:
    return great_circle_m(area.lat, area.lon, position[0], position[1]) <= area.radius_m


def matches(topic: Topic, station_id: str, position: tuple[float, float] | None) -> bool:
    """Whether a station-status broadcast concerns a topic."""
    if isinstance(topic, StationTopic):
        return topic.station_id == station_id
    if isinstance(topic, AreaTopic):
        return position is not None and _inside(topic, position)
    assert isinstance(topic, ReservationsTopic)
    return False
