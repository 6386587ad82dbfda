"""Use cases of the message journal: note frames, write them in batches, read them back.

`note` is called on the path of every OCPP frame, so it only appends to an in-memory queue
(bounded per station, in frames and in characters of text: a station flooding the server
while the database is slow loses its oldest unwritten frames, never memory; and one flush
never writes more than that per station, so no batch of frames near the gateway's size cap
inflates a database connection's page cache). `flush` (bootstrap runs it every second) parses,
redacts and writes what queued in one transaction; `purge` keeps each station's journal to
its newest `keep` entries and to the retention time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from datetime import datetime, timedelta

from voltbook.core.clock import Clock
from voltbook.journal.model import FRAMES_PER_TURN, Direction, Frame, JournalEntry, entry_of
from voltbook.journal.ports import JournalUowFactory

MAX_PAGE = 500
_ACTIONS_KEPT = 256  # unanswered call ids remembered per station, to name their answers

Queued = tuple[bool, datetime, str]  # inbound, when, the text as it went over the wire


class _Queue:
    """A station's unwritten frames, oldest first, and the characters of text they hold."""

    __slots__ = ("frames", "text")

    def __init__(self) -> None:
        self.frames: deque[Queued] = deque()
        self.text = 0


class JournalService:
    def __init__(
        self,
        uow: JournalUowFactory,
        clock: Clock,
        *,
        keep: int = 500,
        retention: timedelta = timedelta(days=7),
        max_queued_per_station: int = 1000,
        max_queued_text_per_station: int = 1 << 20,
    ) -> None:
        self._uow = uow
        self._clock = clock
        self._keep = keep
        self._retention = retention
        self._max_queued = max_queued_per_station
        self._max_text = max_queued_text_per_station
        # Plain tuples of atomic values: the garbage collector stops tracking them, so a
        # second of queued frames does not make it walk the heap (src/voltbook/heap.py).
        self._queued: dict[str, _Queue] = {}
        self._actions: dict[str, dict[str, str]] = {}
        self._written: set[str] = set()  # stations written to since the last purge
        self._gone: set[str] = set()  # disconnected since the last flush

    def note(self, station_id: str, inbound: bool, text: str) -> None:
        """Queue a frame as it went over the wire (cheap: called for every frame). The
        oldest queued frames of the station go while it holds more than its bounds allow;
        the newest frame always stays."""
        queue = self._queued.get(station_id)
        if queue is None:
            queue = self._queued[station_id] = _Queue()
        frames = queue.frames
        frames.append((inbound, self._clock.now(), text))
        queue.text += len(text)
        while len(frames) > 1 and (len(frames) > self._max_queued or queue.text > self._max_text):
            queue.text -= len(frames.popleft()[2])

    @property
    def queued(self) -> int:
        return sum(len(q.frames) for q in self._queued.values())

    async def flush(self) -> int:
        """Write every queued frame in one transaction; how many. Frames a failed write
        took stay lost (the journal is a diagnostic aid, not a record of account)."""
        queued, self._queued = self._queued, {}
        gone, self._gone = self._gone, set()
        entries: list[JournalEntry] = []
        read = 0
        for station_id, queue in queued.items():
            actions = self._actions.setdefault(station_id, {})
            for inbound, at, text in queue.frames:
                direction = Direction.IN if inbound else Direction.OUT
                entries.append(entry_of(Frame(station_id, direction, at, text), actions))
                read += 1
                if read % FRAMES_PER_TURN == 0:
                    await asyncio.sleep(0)
            while len(actions) > _ACTIONS_KEPT:
                actions.pop(next(iter(actions)))
        for station_id in gone:  # its last frames are named; what it left unanswered stays so
            self._actions.pop(station_id, None)
        if not entries:
            return 0
        async with self._uow() as uow:
            await uow.journal.add_many(entries)
            await uow.commit()
        self._written.update(queued)
        return len(entries)

    async def purge(self) -> int:
        """Drop entries past the retention time and beyond each station's newest `keep`."""
        stations, self._written = sorted(self._written), set()
        async with self._uow() as uow:
            gone = await uow.journal.purge(self._clock.now() - self._retention)
            if stations:
                gone += await uow.journal.trim(stations, self._keep)
            await uow.commit()
        return gone

    def forget(self, station_id: str) -> None:
        """A station gone: its unanswered calls will not be answered on a new connection, so
        the ids kept to name their answers go at the next flush (once its last frames are
        written). Without this every station ever connected kept up to 256 of them."""
        self._gone.add(station_id)

    async def recent(
        self,
        station_id: str,
        before: int | None,
        limit: int,
        action: str | None = None,
        direction: Direction | None = None,
    ) -> list[JournalEntry]:
        async with self._uow(read_only=True) as uow:
            return await uow.journal.recent(
                station_id, before, min(limit, MAX_PAGE), action, direction
            )
