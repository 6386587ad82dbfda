"""Sends one Web Push message: RFC 8291 payload encryption (aes128gcm), RFC 8292 VAPID, RFC 8030.

pywebpush does the encryption and py_vapid the signing; the request itself goes out with
httpx, so that sending never blocks the event loop (pywebpush's own sender is synchronous).
"""

from __future__ import annotations

import ssl
from typing import Any
from urllib.parse import urlsplit

import httpx
import structlog
from py_vapid import Vapid02, VapidException  # type: ignore[import-untyped]
from pywebpush import WebPusher, WebPushException

from voltbook.core.clock import Clock
from voltbook.live.vapid import VapidKeys
from voltbook.notices.model import PushOutcome, PushSubscription, Urgency

_log = structlog.get_logger("voltbook.push")
_DELIVERED = frozenset({200, 201, 202})
_GONE = frozenset({404, 410})
CONTENT_ENCODING = "aes128gcm"


class WebPushSender:
    """Implements the notices area's PushSender port.

    The VAPID token is signed once per push service and reused until it is near expiry
    (tokens live `token_lifetime_s`, at most 24 hours as RFC 8292 allows).
    """

    def __init__(
        self,
        keys: VapidKeys,
        contact: str,
        clock: Clock,
        *,
        timeout_s: float = 10.0,
        token_lifetime_s: int = 12 * 3600,
    ) -> None:
        if not 60 <= token_lifetime_s <= 24 * 3600:
            raise ValueError("a VAPID token lives between a minute and 24 hours")
        self._vapid = Vapid02(private_key=keys.private_key)
        self._contact = contact
        self._clock = clock
        self._timeout = httpx.Timeout(timeout_s)
        self._token_lifetime_s = token_lifetime_s
        self._tokens: dict[str, tuple[str, float]] = {}  # audience -> (header, expires at)
        self._tls = ssl.create_default_context()
        try:
            self._vapid.sign({"sub": contact, "aud": "https://push.example"})
        except VapidException:
            raise ValueError(
                "the push contact (VAPID sub) must be a mailto: address or an https: URL"
            ) from None

    async def send(
        self, subscription: PushSubscription, payload: bytes, ttl_s: int, urgency: Urgency
    ) -> PushOutcome:
        host = urlsplit(subscription.endpoint).hostname or "?"
        try:
            body = self._encrypt(subscription, payload)
        except (WebPushException, ValueError) as error:
            # Keys that are not a point on the curve can never be encrypted to.
            _log.warning("push subscription keys unusable", host=host, error=type(error).__name__)
            return PushOutcome.GONE
        headers = {
            "Authorization": self._authorization(subscription.endpoint),
            "TTL": str(ttl_s),
            "Urgency": urgency.value,
            "Content-Encoding": CONTENT_ENCODING,
            "Content-Type": "application/octet-stream",
        }
        try:
            async with httpx.AsyncClient(
                timeout=self._timeout, verify=self._tls, follow_redirects=False
            ) as client:
                response = await client.post(subscription.endpoint, content=body, headers=headers)
        except httpx.HTTPError as error:
            _log.warning("push service unreachable", host=host, error=type(error).__name__)
            return PushOutcome.FAILED
        if response.status_code in _DELIVERED:
            return PushOutcome.DELIVERED
        if response.status_code in _GONE:
            _log.info("push subscription gone", host=host, status=response.status_code)
            return PushOutcome.GONE
        _log.warning("push refused", host=host, status=response.status_code)
        return PushOutcome.FAILED

    def _encrypt(self, subscription: PushSubscription, payload: bytes) -> bytes:
        info: dict[str, Any] = {
            "endpoint": subscription.endpoint,
            "keys": {"p256dh": subscription.p256dh, "auth": subscription.auth},
        }
        encoded = WebPusher(info).encode(payload, CONTENT_ENCODING)
        body: bytes = encoded["body"]
        return body

    def _authorization(self, endpoint: str) -> str:
        parts = urlsplit(endpoint)
        audience = f"{parts.scheme}://{parts.netloc}"
        now = self._clock.now().timestamp()
        cached = self._tokens.get(audience)
        if cached is not None and cached[1] - now > self._token_lifetime_s / 2:
            return cached[0]
        expires = int(now) + self._token_lifetime_s
        header: str = self._vapid.sign({"sub": self._contact, "aud": audience, "exp": expires})[
            "Authorization"
        ]
        if len(self._tokens) > 1000:  # a handful of push services exist; never grow unbounded
            self._tokens.clear()
        self._tokens[audience] = (header, expires)
        return header
