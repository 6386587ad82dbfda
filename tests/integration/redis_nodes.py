"""Nodes on the real Redis for integration tests, each test under its own key prefix."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from redis.asyncio import Redis

from voltbook.live.redis_node import RedisNode

REDIS_URL = os.environ.get("VOLTBOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def unique_prefix() -> str:
    return f"voltbook-test-{secrets.token_hex(6)}"


def new_node(prefix: str, node_id: str | None = None) -> RedisNode:
    """A node whose connections are named after it (so a test can cut exactly those)."""
    node_id = node_id or secrets.token_hex(4)
    redis = Redis.from_url(REDIS_URL, client_name=f"{prefix}-{node_id}")
    return RedisNode(redis, prefix=prefix, node_id=node_id, retry_s=0.1)


async def cut_listener(node: RedisNode) -> int:
    """Drop the node's subscriber connection, as a Redis restart would; how many were cut."""
    name = f"{node.prefix}-{node.node_id}"
    async with admin() as redis:
        clients = await redis.client_list(_type="pubsub")
        ours = [c["id"] for c in clients if c.get("name") == name]
        for client_id in ours:
            await redis.client_kill_filter(_id=client_id)
    return len(ours)


@asynccontextmanager
async def admin() -> AsyncIterator[Redis]:
    """A plain client, for looking at (and cleaning up) what the nodes wrote."""
    redis = Redis.from_url(REDIS_URL)
    try:
        yield redis
    finally:
        await redis.aclose()


async def forget(prefix: str) -> None:
    async with admin() as redis:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
