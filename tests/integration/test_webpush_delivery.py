"""Notices reach a closed app: real encryption, real VAPID, a real (local) push service.

Nothing on the sending side is mocked: the PushService runs on the database with the
WebPushSender; the push service at the other end checks the VAPID token and decrypts the
body with the browser's own keys, as a browser vendor's push service and browser would.
"""

from __future__ import annotations

import json
import stat
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import free_port
from tests.local_push_service import Browser, LocalPushService, local_push_service, unb64url
from tests.unit.fakes import FakeClock
from voltbook.core.clock import SystemClock
from voltbook.live.vapid import VapidKeys, vapid_keys
from voltbook.live.webpush import WebPushSender
from voltbook.notices.model import PushOutcome, PushSubscription, Urgency
from voltbook.notices.push import PushService
from voltbook.storage.tables import drivers, push_subscriptions
from voltbook.storage.unit_of_work import SqlUnitOfWork

CONTACT = "mailto:operator@example.org"


@pytest.fixture
async def push_service() -> AsyncIterator[LocalPushService]:
    async with local_push_service() as service:
        yield service


@pytest.fixture
def keys(tmp_path: Path) -> VapidKeys:
    return vapid_keys(tmp_path)


@pytest.fixture
async def push(engine: AsyncEngine, keys: VapidKeys) -> PushService:
    clock = SystemClock()
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert(),
            [
                {"id": d, "email": f"{d}@example.org", "password_hash": "x", "role": "driver",
                 "created_at": datetime.now(UTC)}
                for d in ("ann", "bob")
            ],
        )  # fmt: skip

    def uow(*, read_only: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(engine, clock, read_only=read_only)

    return PushService(
        uow,
        WebPushSender(keys, CONTACT, clock, timeout_s=5),
        clock,
        keys.application_server_key,
        allow_insecure_endpoints=True,
    )


async def stored_endpoints(engine: AsyncEngine) -> list[str]:
    async with engine.connect() as connection:
        rows = await connection.execute(
            sa.select(push_subscriptions.c.endpoint).order_by(push_subscriptions.c.id)
        )
        return [row.endpoint for row in rows]


async def last_success(engine: AsyncEngine, endpoint: str) -> datetime | None:
    async with engine.connect() as connection:
        found: datetime | None = await connection.scalar(
            sa.select(push_subscriptions.c.last_success_at).where(
                push_subscriptions.c.endpoint == endpoint
            )
        )
        return found


async def test_a_notice_arrives_decrypted_and_unchanged_at_the_drivers_browser(
    push: PushService, push_service: LocalPushService, engine: AsyncEngine
) -> None:
    endpoint, browser = push_service.subscribe(push.public_key)
    await push.subscribe("ann", endpoint, browser.p256dh, browser.auth)
    notice = json.dumps(
        {"type": "reservation.updated", "seq": 7, "status": "held", "note": "Ladesäule ⚡"}
    ).encode()
    assert await push.push("ann", notice, 900, Urgency.HIGH) == 1
    [received] = push_service.received
    assert received.plaintext == notice
    assert push_service.refused == []
    assert await last_success(engine, endpoint) is not None


async def test_ttl_urgency_and_a_vapid_token_for_this_push_service_arrive(
    push: PushService, push_service: LocalPushService
) -> None:
    endpoint, browser = push_service.subscribe(push.public_key)
    await push.subscribe("ann", endpoint, browser.p256dh, browser.auth)
    before = time.time()
    await push.push("ann", b'{"type":"offer"}', 120, Urgency.VERY_LOW)
    await push.push("ann", b'{"type":"alarm"}', 0, Urgency.HIGH)
    assert [(r.ttl, r.urgency) for r in push_service.received] == [(120, "very-low"), (0, "high")]
    claims = push_service.received[0].claims
    assert claims["aud"] == push_service.origin
    assert claims["sub"] == CONTACT
    assert before < claims["exp"] <= before + 24 * 3600
    assert push_service.received[0].vapid_key == push.public_key


async def test_every_browser_of_the_driver_gets_the_message_under_its_own_keys(
    push: PushService, push_service: LocalPushService
) -> None:
    phone, phone_keys = push_service.subscribe()
    laptop, laptop_keys = push_service.subscribe()
    others, others_keys = push_service.subscribe()
    await push.subscribe("ann", phone, phone_keys.p256dh, phone_keys.auth)
    await push.subscribe("ann", laptop, laptop_keys.p256dh, laptop_keys.auth)
    await push.subscribe("bob", others, others_keys.p256dh, others_keys.auth)
    assert await push.push("ann", b"for ann", 60, Urgency.NORMAL) == 2
    assert [r.plaintext for r in push_service.to(phone)] == [b"for ann"]
    assert [r.plaintext for r in push_service.to(laptop)] == [b"for ann"]
    assert push_service.to(others) == []


@pytest.mark.parametrize("status", [404, 410])
async def test_a_subscription_the_push_service_calls_gone_is_removed_from_the_database(
    push: PushService, push_service: LocalPushService, engine: AsyncEngine, status: int
) -> None:
    gone, gone_keys = push_service.subscribe()
    alive, alive_keys = push_service.subscribe()
    await push.subscribe("ann", gone, gone_keys.p256dh, gone_keys.auth)
    await push.subscribe("ann", alive, alive_keys.p256dh, alive_keys.auth)
    push_service.answers[push_service.token(gone)] = status
    assert await push.push("ann", b"hello", 60, Urgency.NORMAL) == 1
    assert await stored_endpoints(engine) == [alive]


async def test_a_push_service_error_keeps_the_subscription_for_the_next_notice(
    push: PushService, push_service: LocalPushService, engine: AsyncEngine
) -> None:
    endpoint, browser = push_service.subscribe()
    await push.subscribe("ann", endpoint, browser.p256dh, browser.auth)
    push_service.answers[push_service.token(endpoint)] = 500
    assert await push.push("ann", b"hello", 60, Urgency.NORMAL) == 0
    assert await stored_endpoints(engine) == [endpoint]
    assert await last_success(engine, endpoint) is None
    del push_service.answers[push_service.token(endpoint)]
    assert await push.push("ann", b"next", 60, Urgency.NORMAL) == 1
    assert [r.plaintext for r in push_service.to(endpoint)] == [b"hello", b"next"]


async def test_an_unreachable_push_service_keeps_the_subscription(
    push: PushService, engine: AsyncEngine
) -> None:
    browser = Browser.new()
    endpoint = f"http://127.0.0.1:{free_port()}/push/nobody-listens"
    await push.subscribe("ann", endpoint, browser.p256dh, browser.auth)
    assert await push.push("ann", b"hello", 60, Urgency.NORMAL) == 0
    assert await stored_endpoints(engine) == [endpoint]


async def test_keys_that_are_no_point_on_the_curve_make_the_subscription_gone(
    push: PushService, push_service: LocalPushService, engine: AsyncEngine
) -> None:
    endpoint, browser = push_service.subscribe()
    # Refused at subscription; a row from before that check is dropped at the first push.
    not_a_point = "BA" + "A" * 85  # 0x04 followed by zeros: the right shape, not on P-256
    assert len(unb64url(not_a_point)) == 65
    async with SqlUnitOfWork(engine, SystemClock()) as uow:
        await uow.push_subscriptions.add(
            PushSubscription(
                "ann", endpoint, not_a_point, browser.auth, created_at=datetime.now(UTC)
            )
        )
        await uow.commit()
    assert await push.push("ann", b"hello", 60, Urgency.NORMAL) == 0
    assert push_service.received == []
    assert await stored_endpoints(engine) == []


def test_the_vapid_key_is_made_once_kept_private_and_given_to_browsers_as_a_raw_point(
    tmp_path: Path,
) -> None:
    made = vapid_keys(tmp_path)
    path = tmp_path / "secrets" / "vapid.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = vapid_keys(tmp_path)
    assert again.application_server_key == made.application_server_key
    raw = unb64url(made.application_server_key)
    assert len(raw) == 65
    assert raw[0] == 4
    assert "=" not in made.application_server_key
    # A configured key wins over the kept one.
    other = vapid_keys(tmp_path / "elsewhere")
    configured = vapid_keys(tmp_path, other.private_pem().decode())
    assert configured.application_server_key == other.application_server_key
    assert vapid_keys(tmp_path).application_server_key == made.application_server_key


async def test_the_vapid_token_is_reused_for_half_its_life_then_signed_anew(
    keys: VapidKeys, push_service: LocalPushService
) -> None:
    clock = FakeClock.at_real_time()
    sender = WebPushSender(keys, CONTACT, clock, token_lifetime_s=3600)
    endpoint, browser = push_service.subscribe(keys.application_server_key)
    target = PushSubscription("ann", endpoint, browser.p256dh, browser.auth, id=1)
    for _ in range(2):
        assert await sender.send(target, b"x", 60, Urgency.NORMAL) is PushOutcome.DELIVERED
    clock.advance(1801)
    assert await sender.send(target, b"x", 60, Urgency.NORMAL) is PushOutcome.DELIVERED
    first, second, third = (r.claims["exp"] for r in push_service.to(endpoint))
    assert first == second
    assert third == first + 1801


@pytest.mark.parametrize("contact", ["operator@example.org", "http://example.org", ""])
def test_a_contact_push_services_cannot_use_is_refused_at_start(
    keys: VapidKeys, contact: str
) -> None:
    with pytest.raises(ValueError, match="contact"):
        WebPushSender(keys, contact, SystemClock())
