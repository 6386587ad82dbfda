"""In-memory notices storage: the outbox, followed topics; commits on `commit` only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork
from voltbook.notices.model import Notice, Urgency


@dataclass
class NoticeState:
    seqs: dict[str, int] = field(default_factory=dict)
    notices: dict[tuple[str, int], Notice] = field(default_factory=dict)
    acked: set[tuple[str, int]] = field(default_factory=set)
    pushed: set[tuple[str, int]] = field(default_factory=set)
    topics: dict[str, list[str]] = field(default_factory=dict)
    staff: list[str] = field(default_factory=list)
    deleted: set[str] = field(default_factory=set)  # accounts gone: no sequence to take


class _Part:
    def __init__(self, uow: FakeNoticesUow) -> None:
        self._uow = uow

    @property
    def _s(self) -> NoticeState:
        return self._uow.state

    def _write(self, what: str) -> None:
        self._uow.writable(what)


class FakeNoticeRepository(_Part):
    async def next_seqs(self, driver_ids: list[str]) -> dict[str, int]:
        self._write("next_seqs")
        taken = {}
        for driver_id in sorted(set(driver_ids)):
            if driver_id in self._s.deleted:
                continue
            self._s.seqs[driver_id] = self._s.seqs.get(driver_id, 0) + 1
            taken[driver_id] = self._s.seqs[driver_id]
        return taken

    async def add_many(self, notices: list[Notice]) -> None:
        self._write("add_many")
        for notice in notices:
            key = (notice.driver_id, notice.seq)
            assert key not in self._s.notices, "a sequence number is never used twice"
            self._s.notices[key] = notice

    async def after(self, driver_id: str, seq: int, now: datetime, limit: int) -> list[Notice]:
        mine = sorted(
            (n for (d, s), n in self._s.notices.items() if d == driver_id and s > seq),
            key=lambda n: n.seq,
        )
        return [n for n in mine if n.expires_at > now][:limit]

    async def latest_seq(self, driver_id: str) -> int:
        return self._s.seqs.get(driver_id, 0)

    async def staff_ids(self) -> list[str]:
        return list(self._s.staff)

    async def ack(self, driver_id: str, seq: int, at: datetime) -> bool:
        self._write("ack")
        if (driver_id, seq) not in self._s.notices:
            return False
        self._s.acked.add((driver_id, seq))
        return True

    async def mark_pushed(self, notices: list[tuple[str, int]], at: datetime) -> None:
        self._write("mark_pushed")
        self._s.pushed.update(notices)

    async def purge(self, now: datetime) -> int:
        self._write("purge")
        gone = [k for k, n in self._s.notices.items() if n.expires_at <= now]
        for key in gone:
            del self._s.notices[key]
        return len(gone)


class FakeTopicRepository(_Part):
    async def add(self, driver_id: str, topic: str, at: datetime) -> None:
        self._write("add")
        assert topic not in self._s.topics.get(driver_id, []), "primary key (driver, topic)"
        self._s.topics.setdefault(driver_id, []).append(topic)

    async def remove(self, driver_id: str, topic: str) -> None:
        self._write("remove")
        if topic in self._s.topics.get(driver_id, []):
            self._s.topics[driver_id].remove(topic)

    async def of_driver(self, driver_id: str) -> list[str]:
        return list(self._s.topics.get(driver_id, []))

    async def followers(self, topics: list[str]) -> list[tuple[str, str]]:
        return [(d, t) for d, mine in self._s.topics.items() for t in mine if t in topics]

    async def area_topics(self) -> list[tuple[str, str]]:
        return [(d, t) for d, mine in self._s.topics.items() for t in mine if t.startswith("area:")]


class NoticeStore(MemoryStore[NoticeState]):
    def __init__(self) -> None:
        super().__init__(NoticeState())

    def uow(self, *, read_only: bool = False) -> FakeNoticesUow:
        return FakeNoticesUow(self, read_only=read_only)


class FakeNoticesUow(MemoryUnitOfWork[NoticeState]):
    def __init__(self, store: NoticeStore, *, read_only: bool = False) -> None:
        super().__init__(store, read_only=read_only)
        self.notices = FakeNoticeRepository(self)
        self.topics = FakeTopicRepository(self)


class FakePresence:
    def __init__(self) -> None:
        self.online_now: set[str] = set()

    async def online(self, driver_id: str) -> bool:
        return driver_id in self.online_now

    async def joined(self, driver_id: str) -> None:
        self.online_now.add(driver_id)

    async def left(self, driver_id: str) -> None:
        self.online_now.discard(driver_id)


class FakePusher:
    """Records pushes; `accepting` says how many subscriptions take each one."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, int, Urgency]] = []
        self.accepting = 1
        self.without_browser: set[str] = set()  # drivers with no subscription at all

    async def subscribed(self, driver_ids: list[str]) -> set[str]:
        return set(driver_ids) - self.without_browser

    async def push(self, driver_id: str, payload: bytes, ttl_s: int, urgency: Urgency) -> int:
        self.sent.append((driver_id, payload, ttl_s, urgency))
        return self.accepting
