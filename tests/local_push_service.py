"""A push service on a free loopback port, acting as a browser vendor's would (RFC 8030).

It checks what a real one checks and keeps what a browser would see:

- the VAPID `Authorization: vapid t=<JWT>,k=<public key>` header (RFC 8292): an ES256 JWT
  signed by `k`, whose `aud` is this service's origin, whose `exp` is in the future and at
  most 24 hours away, with a `sub` contact; when a subscription was made with an
  applicationServerKey, `k` must be that key (answer 403 otherwise);
- a `TTL` header (required; 400 without), the `Urgency` header, `Content-Encoding: aes128gcm`;
- the body, decrypted per RFC 8291 with the subscribing browser's private key and auth
  secret (400 when it does not decrypt).

A message that passes is recorded with its plaintext; the answer is 201 unless the test
scripted another status for that subscription (410 gone, 500 broken, ...).
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import http_ece  # type: ignore[import-untyped]
import jwt
import uvicorn
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tests.e2e.conftest import free_port, serving


def b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True)
class Browser:
    """The browser's side of a subscription: its own P-256 key pair and auth secret."""

    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes

    @classmethod
    def new(cls) -> Browser:
        return cls(ec.generate_private_key(ec.SECP256R1()), os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64url(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )

    @property
    def auth(self) -> str:
        return b64url(self.auth_secret)


@dataclass(frozen=True)
class Received:
    token: str
    plaintext: bytes
    ttl: int
    urgency: str | None
    claims: dict[str, Any]
    vapid_key: str


@dataclass
class LocalPushService:
    origin: str = ""
    browsers: dict[str, Browser] = field(default_factory=dict)
    server_keys: dict[str, str] = field(default_factory=dict)  # token -> applicationServerKey
    answers: dict[str, int] = field(default_factory=dict)
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    def subscribe(self, application_server_key: str | None = None) -> tuple[str, Browser]:
        """A new subscription as a browser makes one: (endpoint, the browser's keys)."""
        token = secrets.token_urlsafe(12)
        self.browsers[token] = Browser.new()
        if application_server_key is not None:
            self.server_keys[token] = application_server_key
        return f"{self.origin}/push/{token}", self.browsers[token]

    def token(self, endpoint: str) -> str:
        return endpoint.rsplit("/", 1)[1]

    def to(self, endpoint: str) -> list[Received]:
        return [r for r in self.received if r.token == self.token(endpoint)]

    def _refuse(self, status: int, why: str) -> Response:
        self.refused.append(why)
        return PlainTextResponse(why, status_code=status)

    async def _push(self, request: Request) -> Response:
        token = request.path_params["token"]
        browser = self.browsers.get(token)
        if browser is None:
            return self._refuse(404, "no such subscription")
        scheme, _, params = request.headers.get("authorization", "").partition(" ")
        parts = dict(p.split("=", 1) for p in params.split(",") if "=" in p)
        if scheme.lower() != "vapid" or "t" not in parts or "k" not in parts:
            return self._refuse(401, "no VAPID authorization")
        try:
            signer = ec.EllipticCurvePublicKey.from_encoded_point(
                ec.SECP256R1(), unb64url(parts["k"])
            )
            claims = jwt.decode(
                parts["t"],
                key=signer,
                algorithms=["ES256"],
                audience=self.origin,
                options={"require": ["exp", "aud", "sub"]},
            )
        except (jwt.PyJWTError, ValueError) as error:
            return self._refuse(401, f"VAPID token refused: {error}")
        if claims["exp"] > time.time() + 24 * 3600:
            return self._refuse(401, "VAPID token lives longer than 24 hours")
        expected = self.server_keys.get(token)
        if expected is not None and parts["k"] != expected:
            return self._refuse(403, "signed by another key than the subscription's")
        ttl = request.headers.get("ttl")
        if ttl is None or not ttl.isdigit():
            return self._refuse(400, "TTL header missing")
        if request.headers.get("content-encoding") != "aes128gcm":
            return self._refuse(415, "not aes128gcm")
        try:
            plaintext = http_ece.decrypt(
                await request.body(),
                private_key=browser.private_key,
                auth_secret=browser.auth_secret,
                version="aes128gcm",
            )
        except Exception as error:
            return self._refuse(400, f"does not decrypt: {type(error).__name__}")
        self.received.append(
            Received(token, plaintext, int(ttl), request.headers.get("urgency"), claims, parts["k"])
        )
        status = self.answers.get(token, 201)
        return Response(status_code=status, headers={"Location": f"/message/{token}"})

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/push/{token}", self._push, methods=["POST"])])


@asynccontextmanager
async def local_push_service() -> AsyncIterator[LocalPushService]:
    port = free_port()
    service = LocalPushService(origin=f"http://127.0.0.1:{port}")
    config = uvicorn.Config(service.app(), host="127.0.0.1", port=port, log_level="warning")
    async with serving(config):
        yield service
