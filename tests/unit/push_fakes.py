"""In-memory ports for Web Push, for unit tests (no database, no network).

They keep to what `storage/push.py` and the database promise, and no more:

- `PushStore` holds the *committed* subscriptions; `uow` is the unit-of-work factory the
  service takes. A write unit of work works on a private copy and publishes it on `commit`;
  leaving without a commit throws its writes away (ids handed out meanwhile are not reused,
  like a database sequence). A read-only unit of work refuses every write.
- One subscription per endpoint: `add` of a known endpoint keeps its id and moves it to the
  new driver with the new keys; when the owner or keys change it starts over (created now,
  no success yet), like the SQL upsert.
- `FakePushSender` answers from a script per endpoint (DELIVERED by default) and records
  every message it was asked to send, as the push service would receive it.
"""

from __future__ import annotations

import dataclasses
import itertools
from dataclasses import dataclass, field
from datetime import datetime

from tests.unit.memory_uow import MemoryStore, MemoryUnitOfWork, ReadOnlyViolation
from voltbook.notices.model import PushOutcome, PushSubscription, Urgency


@dataclass(slots=True)
class _State:
    rows: dict[int, PushSubscription] = field(default_factory=dict)
    last_success: dict[int, datetime] = field(default_factory=dict)

    def copy(self) -> _State:
        return _State(dict(self.rows), dict(self.last_success))


class PushStore(MemoryStore[_State]):
    def __init__(self) -> None:
        super().__init__(_State())
        self._ids = itertools.count(1)

    def copy_state(self, state: _State) -> _State:
        return state.copy()

    def uow(self, *, read_only: bool = False) -> PushUow:
        return PushUow(self, read_only=read_only)

    def of(self, driver_id: str) -> list[PushSubscription]:
        return sorted(
            (s for s in self.state.rows.values() if s.driver_id == driver_id),
            key=lambda s: s.id or 0,
        )

    def by_endpoint(self, endpoint: str) -> PushSubscription | None:
        return next((s for s in self.state.rows.values() if s.endpoint == endpoint), None)


class FakePushSubscriptionRepository:
    def __init__(self, store: PushStore, state: _State, *, writable: bool) -> None:
        self._store = store
        self._state = state
        self._writable = writable

    def _write(self, what: str) -> None:
        if not self._writable:
            raise ReadOnlyViolation(f"{what} in a read-only unit of work")

    async def add(self, subscription: PushSubscription) -> PushSubscription | None:
        self._write("add")
        assert subscription.created_at is not None
        known = next(
            (s for s in self._state.rows.values() if s.endpoint == subscription.endpoint), None
        )
        if (
            known is not None
            and known.driver_id != subscription.driver_id
            and (known.p256dh, known.auth) != (subscription.p256dh, subscription.auth)
        ):
            return None  # another driver's, and no proof of holding it
        if known is None:
            saved = dataclasses.replace(subscription, id=next(self._store._ids))
        elif (known.driver_id, known.p256dh, known.auth) == (
            subscription.driver_id,
            subscription.p256dh,
            subscription.auth,
        ):
            saved = known
        else:
            assert known.id is not None
            saved = dataclasses.replace(subscription, id=known.id)
            self._state.last_success.pop(known.id, None)
        assert saved.id is not None
        self._state.rows[saved.id] = saved
        return saved

    async def remove(self, driver_id: str, endpoint: str) -> bool:
        self._write("remove")
        for key, row in list(self._state.rows.items()):
            if row.driver_id == driver_id and row.endpoint == endpoint:
                del self._state.rows[key]
                self._state.last_success.pop(key, None)
                return True
        return False

    async def of_driver(self, driver_id: str) -> list[PushSubscription]:
        return sorted(
            (s for s in self._state.rows.values() if s.driver_id == driver_id),
            key=lambda s: s.id or 0,
        )

    async def drivers_among(self, driver_ids: list[str]) -> set[str]:
        return {s.driver_id for s in self._state.rows.values() if s.driver_id in driver_ids}

    async def forget(self, subscription_id: int) -> None:
        self._write("forget")
        self._state.rows.pop(subscription_id, None)
        self._state.last_success.pop(subscription_id, None)

    async def delivered(self, subscription_id: int, at: datetime) -> None:
        self._write("delivered")
        if subscription_id in self._state.rows:
            self._state.last_success[subscription_id] = at


class PushUow(MemoryUnitOfWork[_State]):
    store: PushStore
    _repository: FakePushSubscriptionRepository | None = None

    @property
    def push_subscriptions(self) -> FakePushSubscriptionRepository:
        if self._repository is None:
            raise RuntimeError("the unit of work is not open")
        return self._repository

    def open_repositories(self) -> None:
        self._repository = FakePushSubscriptionRepository(
            self.store, self.state, writable=not self.read_only
        )

    def close_repositories(self) -> None:
        self._repository = None


@dataclass(frozen=True, slots=True)
class SentPush:
    endpoint: str
    p256dh: str
    auth: str
    payload: bytes
    ttl_s: int
    urgency: Urgency


class FakePushSender:
    def __init__(self) -> None:
        self.answers: dict[str, PushOutcome] = {}
        self.sent: list[SentPush] = []

    async def send(
        self, subscription: PushSubscription, payload: bytes, ttl_s: int, urgency: Urgency
    ) -> PushOutcome:
        self.sent.append(
            SentPush(
                subscription.endpoint,
                subscription.p256dh,
                subscription.auth,
                payload,
                ttl_s,
                urgency,
            )
        )
        return self.answers.get(subscription.endpoint, PushOutcome.DELIVERED)
