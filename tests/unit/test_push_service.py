"""Drivers register their browsers for Web Push; notices reach every one of them."""

from __future__ import annotations

import base64
import os

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from tests.unit.fakes import FakeClock
from tests.unit.push_fakes import FakePushSender, PushStore
from voltbook.core.errors import Conflict, InvalidInput, NotFound
from voltbook.notices.model import PushOutcome, Urgency
from voltbook.notices.push import MAX_PAYLOAD_BYTES, PushService

PUBLIC_KEY = "BPublicKeyAsTheBrowserTakesIt"


def b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def browser_keys() -> tuple[str, str]:
    """A browser's (p256dh, auth): a fresh P-256 public key and a 16-byte secret."""
    point = (
        ec.generate_private_key(ec.SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    )
    return b64(point), b64(os.urandom(16))


def endpoint(name: str) -> str:
    return f"https://push.example.org/send/{name}"


@pytest.fixture
def store() -> PushStore:
    return PushStore()


@pytest.fixture
def sender() -> FakePushSender:
    return FakePushSender()


@pytest.fixture
def push(store: PushStore, sender: FakePushSender, clock: FakeClock) -> PushService:
    return PushService(store.uow, sender, clock, PUBLIC_KEY, max_per_driver=3)


async def test_a_subscription_is_kept_for_the_driver_who_made_it(
    push: PushService, store: PushStore, clock: FakeClock
) -> None:
    p256dh, auth = browser_keys()
    saved = await push.subscribe("ann", endpoint("a"), p256dh, auth)
    assert saved.id is not None
    assert (saved.driver_id, saved.endpoint, saved.p256dh, saved.auth) == (
        "ann", endpoint("a"), p256dh, auth,
    )  # fmt: skip
    assert saved.created_at == clock.now()
    assert store.of("ann") == [saved]
    assert await push.subscriptions("ann") == [saved]
    assert await push.subscriptions("bob") == []
    assert push.public_key == PUBLIC_KEY


async def test_padded_base64url_keys_are_taken_and_kept_without_padding(
    push: PushService,
) -> None:
    raw_p256dh, raw_auth = base64.urlsafe_b64decode(browser_keys()[0] + "="), os.urandom(16)
    saved = await push.subscribe(
        "ann",
        endpoint("a"),
        base64.urlsafe_b64encode(raw_p256dh).decode(),
        base64.urlsafe_b64encode(raw_auth).decode(),
    )
    assert saved.p256dh == b64(raw_p256dh)
    assert saved.auth == b64(raw_auth)
    assert "=" not in saved.p256dh + saved.auth


@pytest.mark.parametrize(
    "url",
    [
        "http://push.example.org/send/a",
        "ftp://push.example.org/send/a",
        "push.example.org/send/a",
        "https:///no-host",
        "https://user:secret@push.example.org/send/a",
        "https://push.example.org/send/a#fragment",
        "https://push.example.org:notaport/a",
        "https://push.example.org/send/a b",
        "https://push.example.org/\x00",
        "https://127.0.0.1/send/a",
        "https://localhost/send/a",
        "https://10.1.2.3/send/a",
        "https://[::1]/send/a",
        "https://169.254.169.254/latest",
        "https://[::ffff:127.0.0.1]/a",
        "https://2130706433/a",
        "https://127.1/a",
        "https://0x7f.1/a",
        "https://metadata/a",
        "https://push.localhost/a",
        "https://localhost./a",
        "http://127.0.0.1:8080/send/a",
        "https://push.example.org/" + "x" * 2048,
        "",
    ],
)
async def test_only_a_public_https_push_service_is_taken_as_an_endpoint(
    push: PushService, store: PushStore, url: str
) -> None:
    with pytest.raises(InvalidInput, match="endpoint"):
        await push.subscribe("ann", url, *browser_keys())
    assert store.of("ann") == []


@pytest.mark.parametrize(
    "url",
    [
        "https://fcm.googleapis.com/fcm/send/dQw4w9WgXcQ:APA91bH",
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABk",
        "https://web.push.apple.com/QGx3Zz",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAB",
        "https://push.example.org:8443/send/a",
    ],
)
async def test_the_push_services_browsers_use_are_taken_as_endpoints(
    push: PushService, url: str
) -> None:
    saved = await push.subscribe("ann", url, *browser_keys())
    assert saved.endpoint == url


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080/send/a", "http://localhost:9/a", "https://127.0.0.1/a"]
)
async def test_a_loopback_endpoint_is_taken_only_when_insecure_endpoints_are_allowed(
    store: PushStore, sender: FakePushSender, clock: FakeClock, url: str
) -> None:
    relaxed = PushService(store.uow, sender, clock, PUBLIC_KEY, allow_insecure_endpoints=True)
    saved = await relaxed.subscribe("ann", url, *browser_keys())
    assert saved.endpoint == url
    for elsewhere in ("http://push.example.org/a", "https://10.0.0.1/a", "http://[::2]/a"):
        with pytest.raises(InvalidInput, match="endpoint"):
            await relaxed.subscribe("ann", elsewhere, *browser_keys())


GOOD_P256DH, GOOD_AUTH = browser_keys()


@pytest.mark.parametrize(
    ("p256dh", "auth", "field"),
    [
        pytest.param(b64(b"\x04" + os.urandom(63)), GOOD_AUTH, "p256dh", id="p256dh-64-bytes"),
        pytest.param(b64(b"\x04" + os.urandom(65)), GOOD_AUTH, "p256dh", id="p256dh-66-bytes"),
        pytest.param(b64(b"\x02" + os.urandom(64)), GOOD_AUTH, "p256dh", id="p256dh-compressed"),
        pytest.param("+" + GOOD_P256DH[1:], GOOD_AUTH, "p256dh", id="p256dh-not-base64url"),
        pytest.param("", GOOD_AUTH, "p256dh", id="p256dh-empty"),
        pytest.param(GOOD_P256DH, b64(os.urandom(15)), "auth", id="auth-15-bytes"),
        pytest.param(GOOD_P256DH, b64(os.urandom(32)), "auth", id="auth-32-bytes"),
        pytest.param(GOOD_P256DH, "not base64 at all!", "auth", id="auth-not-base64"),
        pytest.param(GOOD_P256DH, "", "auth", id="auth-empty"),
    ],
)
async def test_keys_must_be_base64url_of_the_right_length(
    push: PushService, store: PushStore, p256dh: str, auth: str, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await push.subscribe("ann", endpoint("a"), p256dh, auth)
    assert refused.value.details["field"] == f"keys.{field}"
    assert store.of("ann") == []


async def test_a_p256dh_of_the_right_shape_that_is_no_point_on_the_curve_is_refused(
    push: PushService, store: PushStore
) -> None:
    point = bytearray(base64.urlsafe_b64decode(browser_keys()[0] + "="))
    point[-1] ^= 1  # y no longer fits x
    for p256dh in (b64(bytes(point)), b64(b"\x04" + b"\xff" * 64), b64(b"\x04" + bytes(64))):
        with pytest.raises(InvalidInput, match="curve") as refused:
            await push.subscribe("ann", endpoint("a"), p256dh, browser_keys()[1])
        assert refused.value.details["field"] == "keys.p256dh"
    assert store.of("ann") == []


async def test_a_known_endpoint_moves_to_another_driver_who_shows_its_keys(
    push: PushService, store: PushStore, clock: FakeClock
) -> None:
    keys = browser_keys()
    first = await push.subscribe("ann", endpoint("shared"), *keys)
    clock.advance(60)
    moved = await push.subscribe("bob", endpoint("shared"), *keys)  # the same browser
    assert moved.id == first.id
    assert (moved.driver_id, moved.p256dh, moved.auth) == ("bob", *keys)
    assert moved.created_at == clock.now()
    assert store.of("ann") == []
    assert store.of("bob") == [moved]


async def test_an_endpoint_url_alone_does_not_take_over_a_subscription(
    push: PushService, store: PushStore
) -> None:
    held = await push.subscribe("ann", endpoint("shared"), *browser_keys())
    with pytest.raises(Conflict, match="another account"):
        await push.subscribe("mallory", endpoint("shared"), *browser_keys())
    assert store.of("ann") == [held]
    assert store.of("mallory") == []
    # Its own driver may still give it new keys (the browser subscribed again).
    renewed_keys = browser_keys()
    renewed = await push.subscribe("ann", endpoint("shared"), *renewed_keys)
    assert (renewed.p256dh, renewed.auth) == renewed_keys


async def test_a_driver_keeps_a_limited_number_of_subscriptions_but_may_renew_one_at_the_limit(
    push: PushService, store: PushStore
) -> None:
    for name in ("a", "b", "c"):
        await push.subscribe("ann", endpoint(name), *browser_keys())
    with pytest.raises(Conflict) as refused:
        await push.subscribe("ann", endpoint("d"), *browser_keys())
    assert refused.value.details == {"limit": 3}
    renewed = await push.subscribe("ann", endpoint("b"), *browser_keys())
    assert [s.endpoint for s in store.of("ann")] == [endpoint(n) for n in ("a", "b", "c")]
    assert renewed in store.of("ann")
    # Someone else's limit is their own.
    await push.subscribe("bob", endpoint("d"), *browser_keys())


async def test_a_driver_removes_their_own_subscription(push: PushService, store: PushStore) -> None:
    await push.subscribe("ann", endpoint("a"), *browser_keys())
    await push.subscribe("ann", endpoint("b"), *browser_keys())
    await push.unsubscribe("ann", endpoint("a"))
    assert [s.endpoint for s in store.of("ann")] == [endpoint("b")]
    with pytest.raises(NotFound):
        await push.unsubscribe("ann", endpoint("a"))


async def test_removing_someone_elses_subscription_looks_like_removing_none_and_keeps_it(
    push: PushService, store: PushStore
) -> None:
    theirs = await push.subscribe("bob", endpoint("b"), *browser_keys())
    with pytest.raises(NotFound) as mine_missing:
        await push.unsubscribe("ann", endpoint("b"))
    with pytest.raises(NotFound) as none_missing:
        await push.unsubscribe("ann", endpoint("never-seen"))
    assert mine_missing.value.detail == none_missing.value.detail
    assert store.of("bob") == [theirs]


async def test_a_push_goes_to_every_browser_of_the_driver_with_its_ttl_and_urgency(
    push: PushService, store: PushStore, sender: FakePushSender, clock: FakeClock
) -> None:
    one = await push.subscribe("ann", endpoint("phone"), *browser_keys())
    two = await push.subscribe("ann", endpoint("laptop"), *browser_keys())
    await push.subscribe("bob", endpoint("bobs"), *browser_keys())
    clock.advance(5)
    delivered = await push.push("ann", b'{"type":"offer"}', 600, Urgency.HIGH)
    assert delivered == 2
    assert sorted((s.endpoint, s.p256dh, s.auth) for s in sender.sent) == sorted(
        (s.endpoint, s.p256dh, s.auth) for s in (one, two)
    )
    assert {(s.payload, s.ttl_s, s.urgency) for s in sender.sent} == {
        (b'{"type":"offer"}', 600, Urgency.HIGH)
    }
    assert one.id is not None
    assert two.id is not None
    assert store.state.last_success == {one.id: clock.now(), two.id: clock.now()}


async def test_a_subscription_the_push_service_calls_gone_is_forgotten_and_a_failed_one_kept(
    push: PushService, store: PushStore, sender: FakePushSender
) -> None:
    await push.subscribe("ann", endpoint("gone"), *browser_keys())
    failing = await push.subscribe("ann", endpoint("failing"), *browser_keys())
    fine = await push.subscribe("ann", endpoint("fine"), *browser_keys())
    sender.answers[endpoint("gone")] = PushOutcome.GONE
    sender.answers[endpoint("failing")] = PushOutcome.FAILED
    assert await push.push("ann", b"hello", 60, Urgency.NORMAL) == 1
    assert store.of("ann") == [failing, fine]
    assert fine.id is not None
    assert set(store.state.last_success) == {fine.id}
    # The next message no longer goes to the dead endpoint.
    sender.sent.clear()
    await push.push("ann", b"again", 60, Urgency.NORMAL)
    assert sorted(s.endpoint for s in sender.sent) == [endpoint("failing"), endpoint("fine")]


async def test_a_push_that_fails_everywhere_changes_nothing(
    push: PushService, store: PushStore, sender: FakePushSender
) -> None:
    kept = await push.subscribe("ann", endpoint("a"), *browser_keys())
    sender.answers[endpoint("a")] = PushOutcome.FAILED
    commits = store.commits
    assert await push.push("ann", b"hello", 60, Urgency.LOW) == 0
    assert store.of("ann") == [kept]
    assert store.commits == commits


async def test_a_driver_without_browsers_gets_nothing_sent(
    push: PushService, sender: FakePushSender
) -> None:
    assert await push.push("ann", b"hello", 60, Urgency.NORMAL) == 0
    assert sender.sent == []


@pytest.mark.parametrize(
    ("payload", "ttl_s"),
    [(b"", 60), (b"x" * (MAX_PAYLOAD_BYTES + 1), 60), (b"hello", -1)],
)
async def test_a_push_needs_a_payload_that_fits_one_message_and_a_ttl(
    push: PushService, sender: FakePushSender, payload: bytes, ttl_s: int
) -> None:
    await push.subscribe("ann", endpoint("a"), *browser_keys())
    with pytest.raises(InvalidInput):
        await push.push("ann", payload, ttl_s, Urgency.NORMAL)
    assert sender.sent == []


async def test_the_largest_payload_that_fits_is_sent(
    push: PushService, sender: FakePushSender
) -> None:
    await push.subscribe("ann", endpoint("a"), *browser_keys())
    assert await push.push("ann", b"x" * MAX_PAYLOAD_BYTES, 0, Urgency.VERY_LOW) == 1
    assert len(sender.sent[0].payload) == MAX_PAYLOAD_BYTES


@pytest.mark.parametrize("endpoint", ["https://push.example/\x00", "https://push.example/\ud800"])
async def test_removing_an_endpoint_no_browser_could_have_is_not_found(
    push: PushService, endpoint: str
) -> None:
    with pytest.raises(NotFound):
        await push.unsubscribe("driver-1", endpoint)
