"""Web Push use cases: drivers register their browsers; notices reach a closed app.

A browser subscribes with the server's public VAPID key and hands over the W3C
PushSubscription JSON (endpoint plus the keys the payload is encrypted to). The push service
answering 404 or 410 means the subscription is dead: it is forgotten at once.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
from dataclasses import replace
from urllib.parse import urlsplit

from voltbook.core.clock import Clock
from voltbook.core.errors import Conflict, InvalidInput, NotFound
from voltbook.notices.model import PushOutcome, PushSubscription, Urgency
from voltbook.notices.ports import PushSender, PushUowFactory

MAX_ENDPOINT_LENGTH = 2048
# A push service must accept 4096 bytes of body (RFC 8030 section 7.2); aes128gcm takes 86
# bytes of header (salt, record size, the sender's public key), a 16-byte tag and one
# delimiter byte (RFC 8291 section 4), which leaves this much for the message itself.
MAX_PAYLOAD_BYTES = 4096 - 86 - 16 - 1
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


class PushService:
    def __init__(
        self,
        uow: PushUowFactory,
        sender: PushSender,
        clock: Clock,
        public_key: str,
        *,
        max_per_driver: int = 10,
        allow_insecure_endpoints: bool = False,
    ) -> None:
        self._uow = uow
        self._sender = sender
        self._clock = clock
        self.public_key = public_key
        """The server's VAPID key as browsers take it (`applicationServerKey`)."""
        self.max_per_driver = max_per_driver
        self._allow_insecure = allow_insecure_endpoints

    async def subscribe(
        self, driver_id: str, endpoint: str, p256dh: str, auth: str
    ) -> PushSubscription:
        """Keep a browser's subscription for the driver.

        A known endpoint of this driver takes the new keys; another driver's moves to this
        one only with its keys (the same browser, signed in by someone else), since the
        endpoint URL alone is no proof of holding the subscription: else Conflict. A known
        endpoint does not count twice towards the limit.
        """
        subscription = PushSubscription(
            driver_id=driver_id,
            endpoint=self._checked_endpoint(endpoint),
            p256dh=_checked_point(_checked_key("p256dh", p256dh, 65, b"\x04")),
            auth=_checked_key("auth", auth, 16),
        )
        async with self._uow() as uow:
            mine = await uow.push_subscriptions.of_driver(driver_id)
            known = any(s.endpoint == subscription.endpoint for s in mine)
            if not known and len(mine) >= self.max_per_driver:
                raise Conflict(
                    f"a driver keeps at most {self.max_per_driver} push subscriptions; "
                    "remove one first",
                    limit=self.max_per_driver,
                )
            saved = await uow.push_subscriptions.add(
                replace(subscription, created_at=self._clock.now())
            )
            if saved is None:
                raise Conflict("this push endpoint belongs to another account")
            await uow.commit()
        return saved

    async def unsubscribe(self, driver_id: str, endpoint: str) -> None:
        """Forget one of the driver's own subscriptions; anyone else's is NotFound."""
        if not endpoint.isprintable():  # NUL, controls, lone surrogates: never stored
            raise NotFound("you have no push subscription with this endpoint")
        async with self._uow() as uow:
            if not await uow.push_subscriptions.remove(driver_id, endpoint):
                raise NotFound("you have no push subscription with this endpoint")
            await uow.commit()

    async def subscriptions(self, driver_id: str) -> list[PushSubscription]:
        async with self._uow(read_only=True) as uow:
            return await uow.push_subscriptions.of_driver(driver_id)

    async def subscribed(self, driver_ids: list[str]) -> set[str]:
        """Which of the drivers have at least one browser subscribed."""
        if not driver_ids:
            return set()
        async with self._uow(read_only=True) as uow:
            return await uow.push_subscriptions.drivers_among(driver_ids)

    async def push(self, driver_id: str, payload: bytes, ttl_s: int, urgency: Urgency) -> int:
        """Send one message to every browser of the driver; returns how many took it.

        Sending happens outside any transaction. Subscriptions the push service calls gone
        are forgotten; ones that failed otherwise stay for the next message.
        """
        if not payload:
            raise InvalidInput("a push message needs a payload")
        if len(payload) > MAX_PAYLOAD_BYTES:
            raise InvalidInput(
                f"a push message carries at most {MAX_PAYLOAD_BYTES} bytes", size=len(payload)
            )
        if ttl_s < 0:
            raise InvalidInput("ttl_s must not be negative")
        targets = await self.subscriptions(driver_id)
        if not targets:
            return 0
        outcomes = await asyncio.gather(
            *(self._sender.send(target, payload, ttl_s, urgency) for target in targets)
        )
        results = list(zip(targets, outcomes, strict=True))
        if any(outcome is not PushOutcome.FAILED for _, outcome in results):
            at = self._clock.now()
            async with self._uow() as uow:
                for target, outcome in results:
                    assert target.id is not None  # stored subscriptions have ids
                    if outcome is PushOutcome.GONE:
                        await uow.push_subscriptions.forget(target.id)
                    elif outcome is PushOutcome.DELIVERED:
                        await uow.push_subscriptions.delivered(target.id, at)
                await uow.commit()
        return sum(outcome is PushOutcome.DELIVERED for _, outcome in results)

    def _checked_endpoint(self, endpoint: str) -> str:
        if not endpoint or len(endpoint) > MAX_ENDPOINT_LENGTH or not endpoint.isprintable():
            raise InvalidInput(f"endpoint must be a URL of at most {MAX_ENDPOINT_LENGTH} chars")
        try:
            parts = urlsplit(endpoint)
            host = parts.hostname or ""
            _ = parts.port  # raises for a port that is not a number
        except ValueError:
            raise InvalidInput("endpoint is not a valid URL") from None
        if parts.username is not None or parts.fragment or not host or " " in endpoint:
            raise InvalidInput("endpoint must be an absolute https URL without user or fragment")
        loopback = host.lower() in _LOOPBACK_NAMES
        if loopback and self._allow_insecure and parts.scheme in ("http", "https"):
            return endpoint  # a local push service, in tests
        if parts.scheme != "https":
            raise InvalidInput("endpoint must be an https URL")
        if loopback or _internal_address(host):
            raise InvalidInput("endpoint must be a public push service")
        return endpoint


def _internal_address(host: str) -> bool:
    """An address that is not on the public internet, or a name that resolves to one.

    Resolvers take numeric hosts that are no IP literal (`2130706433`, `127.1`, `0x7f.1`)
    as addresses too, so a name must end in a top-level domain that starts with a letter.
    """
    name = host.lower().rstrip(".")
    try:
        return not ipaddress.ip_address(name).is_global
    except ValueError:
        pass
    labels = name.split(".")
    return len(labels) < 2 or not labels[-1][:1].isalpha() or labels[-1] == "localhost"


def _checked_key(name: str, value: str, length: int, prefix: bytes = b"") -> str:
    """A base64url key of the given decoded length, stored without padding."""
    text = value.rstrip("=")
    raw = b""
    if text and len(text) <= 2 * length and all(c in _BASE64URL for c in text):
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        except (binascii.Error, ValueError):
            raw = b""
    if len(raw) != length or not raw.startswith(prefix):
        shape = f"{length} bytes"
        if prefix:
            shape += " starting with 0x04 (an uncompressed P-256 point)"
        raise InvalidInput(f"keys.{name} must be base64url of {shape}", field=f"keys.{name}")
    return text


# NIST P-256 (SEC 2, secp256r1): y^2 = x^3 - 3x + b over the field of _P256_P elements.
_P256_P = 2**256 - 2**224 + 2**192 + 2**96 - 1
_P256_B = 0x5AC635D8AA3A93E7B3EBBD55769886BC651D06B0CC53B0F63BCE3C3E27D2604B


def _checked_point(p256dh: str) -> str:
    """The key must be a point on P-256 (cofactor 1: any such point is a valid public key);
    anything else could never be encrypted to."""
    raw = base64.urlsafe_b64decode(p256dh + "=" * (-len(p256dh) % 4))
    x, y = int.from_bytes(raw[1:33], "big"), int.from_bytes(raw[33:65], "big")
    on_curve = x < _P256_P and y < _P256_P and (y * y - (x**3 - 3 * x + _P256_B)) % _P256_P == 0
    if not on_curve:
        raise InvalidInput("keys.p256dh is not a point on the P-256 curve", field="keys.p256dh")
    return p256dh


_BASE64URL = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
