"""The client address is the peer's own unless the peer is a proxy named in the settings:
X-Forwarded-For cannot move a guesser out of the sign-in throttle (issue 14, item 5)."""

from __future__ import annotations

import secrets
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import free_port, server_settings, serving
from voltbook.cli import _server

ATTEMPTS = 12  # the throttle allows 10 failures a minute per address


async def failures_until_throttled(base: str, forwarded: bool) -> list[int]:
    statuses: list[int] = []
    async with httpx.AsyncClient(base_url=base, timeout=10) as client:
        for n in range(ATTEMPTS):
            headers = {"X-Forwarded-For": f"203.0.113.{n + 1}"} if forwarded else {}
            answer = await client.post(
                "/api/v1/auth/token",
                # Another account each time: only the address can add the failures up.
                data={"username": f"nobody-{secrets.token_hex(4)}@example.org", "password": "x"},
                headers=headers,
            )
            statuses.append(answer.status_code)
    return statuses


async def test_forwarded_headers_from_an_untrusted_peer_are_ignored(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = server_settings(database_url, tmp_path)
    async with serving(_server(settings, "127.0.0.1", port).config):
        statuses = await failures_until_throttled(f"http://127.0.0.1:{port}", forwarded=True)
    assert statuses[:10] == [401] * 10
    assert statuses[10:] == [429, 429]


async def test_forwarded_headers_from_a_trusted_proxy_name_the_client(
    engine: AsyncEngine, database_url: str, tmp_path: Path
) -> None:
    port = free_port()
    settings = server_settings(database_url, tmp_path, trusted_proxies=["127.0.0.1"])
    async with serving(_server(settings, "127.0.0.1", port).config):
        statuses = await failures_until_throttled(f"http://127.0.0.1:{port}", forwarded=True)
    assert statuses == [401] * ATTEMPTS  # each forwarded client failed once
