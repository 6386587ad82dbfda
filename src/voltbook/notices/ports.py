"""What the notices area needs from the outside world."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from voltbook.core.uow import UnitOfWork, UowFactory
from voltbook.notices.model import Notice, PushOutcome, PushSubscription, Urgency


class NoticeRepository(Protocol):
    async def next_seqs(self, driver_ids: list[str]) -> dict[str, int]:
        """Take each driver's next sequence number (inside this transaction); unknown
        drivers are left out."""
        ...

    async def add_many(self, notices: list[Notice]) -> None: ...

    async def after(self, driver_id: str, seq: int, now: datetime, limit: int) -> list[Notice]:
        """Unexpired notices with a higher sequence number, oldest first."""
        ...

    async def latest_seq(self, driver_id: str) -> int:
        """The driver's newest sequence number (0 before the first notice)."""
        ...

    async def staff_ids(self) -> list[str]:
        """Operators and admins: they hear about alarms."""
        ...

    async def ack(self, driver_id: str, seq: int, at: datetime) -> bool:
        """Mark one notice delivered; False when there is no such notice."""
        ...

    async def mark_pushed(self, notices: list[tuple[str, int]], at: datetime) -> None:
        """Record that these (driver_id, seq) notices went out by Web Push."""
        ...

    async def purge(self, now: datetime) -> int:
        """Drop expired notices; returns how many."""
        ...


class TopicRepository(Protocol):
    """The topics a driver follows, kept while the app is closed (they drive Web Push)."""

    async def add(self, driver_id: str, topic: str, at: datetime) -> None: ...

    async def remove(self, driver_id: str, topic: str) -> None: ...

    async def of_driver(self, driver_id: str) -> list[str]: ...

    async def followers(self, topics: list[str]) -> list[tuple[str, str]]:
        """(driver_id, topic) for every driver following any of `topics`."""
        ...

    async def area_topics(self) -> list[tuple[str, str]]:
        """(driver_id, topic) for every area topic (few; filtered by distance in Python)."""
        ...


class PushSubscriptionRepository(Protocol):
    async def add(self, subscription: PushSubscription) -> PushSubscription | None:
        """Store a subscription, or update a known endpoint: its own driver may change its
        keys; it moves to another driver only when the keys given are the stored ones (proof
        of holding the subscription). None when it belongs to another driver and they differ.
        """
        ...

    async def remove(self, driver_id: str, endpoint: str) -> bool:
        """Forget the driver's own subscription; False when it was not theirs or not there."""
        ...

    async def of_driver(self, driver_id: str) -> list[PushSubscription]: ...

    async def drivers_among(self, driver_ids: list[str]) -> set[str]:
        """The drivers of the list with at least one subscription."""
        ...

    async def forget(self, subscription_id: int) -> None:
        """Drop a subscription the push service says is gone."""
        ...

    async def delivered(self, subscription_id: int, at: datetime) -> None: ...


class NoticesUnitOfWork(UnitOfWork, Protocol):
    @property
    def notices(self) -> NoticeRepository: ...

    @property
    def topics(self) -> TopicRepository: ...


class PushUnitOfWork(UnitOfWork, Protocol):
    @property
    def push_subscriptions(self) -> PushSubscriptionRepository: ...


class PushSender(Protocol):
    """Sends one encrypted Web Push message (RFC 8030/8291/8292) to one subscription."""

    async def send(
        self, subscription: PushSubscription, payload: bytes, ttl_s: int, urgency: Urgency
    ) -> PushOutcome: ...


class Presence(Protocol):
    """Whether a driver has a live channel open on any node."""

    async def online(self, driver_id: str) -> bool: ...

    async def joined(self, driver_id: str) -> None: ...

    async def left(self, driver_id: str) -> None: ...


NoticesUowFactory = UowFactory[NoticesUnitOfWork]
PushUowFactory = UowFactory[PushUnitOfWork]
