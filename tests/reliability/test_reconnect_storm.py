"""Reconnect storm, short variant (the long one: `./dev bench storm`, 2,000 stations): every
station dropped at once comes back within the jitter window and is admitted; afterwards each
is online once, with its latest status, and the server holds one connection per station.
Its time is stated next to a bare `websockets` server's admission of the same clients."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from benchmarks import storm as bench
from benchmarks.ocpp_ingest import raise_fd_limit
from sqlalchemy.ext.asyncio import AsyncEngine
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from voltbook.config import Settings

JITTER_S = 0.5
# The short variant runs server and clients in one process beside the other tests: a loose
# bound that still catches an admission gone back to a slow hash (about 20 times).
RATIO_BOUND = 6.0


@pytest.fixture
def app_overrides() -> dict[str, object]:
    # As deployed: a station back within the offline grace period was never offline.
    grace = Settings.model_fields["ocpp_offline_grace_s"].default
    return {"station_key": bench.STATION_KEY, "ocpp_offline_grace_s": grace}


@pytest.fixture
def engine(own_database: tuple[str, AsyncEngine]) -> AsyncEngine:
    return own_database[1]


@pytest.fixture
async def bare_port() -> AsyncIterator[int]:
    """A bare `websockets` server that accepts every station and echoes its frames."""

    async def echo(connection: ServerConnection) -> None:
        with contextlib.suppress(ConnectionClosed):  # the storm drops every connection
            async for message in connection:
                await connection.send(message)

    subprotocols: Any = ["ocpp1.6"]
    async with serve(echo, "127.0.0.1", 0, subprotocols=subprotocols, compression=None) as server:
        yield next(iter(server.sockets)).getsockname()[1]


@pytest.mark.parametrize("stations", [50, pytest.param(200, marks=pytest.mark.long)])
async def test_stations_dropped_at_once_are_all_admitted_once_with_their_latest_status(
    served: tuple[str, Any], own_database: tuple[str, AsyncEngine], bare_port: int, stations: int
) -> None:
    raise_fd_limit()
    base, _app = served
    port = int(base.rsplit(":", 1)[1])
    ids = [f"STORM-{n:04d}-{secrets.token_hex(2)}" for n in range(stations)]
    await bench.insert_stations(own_database[0], ids)

    ceiling, opened = await bench.storm(ids, bare_port, JITTER_S, seed=1)
    bench.close_all(opened)
    measured, opened = await bench.storm(ids, port, JITTER_S, seed=1)
    try:
        assert measured.failures == []
        async with asyncio.timeout(10):  # the last writes of the storm settle
            while (after := await bench.afterwards(own_database[0], port, ids)).online < stations:
                await asyncio.sleep(0.2)
        assert after == bench.Afterwards(online=stations, available=stations, connected=stations)
    finally:
        bench.close_all(opened)
    ratio = measured.admitted_s / ceiling.admitted_s
    print(
        f"\n{stations} stations back within {JITTER_S:g} s: admitted in {measured.admitted_s:.2f} s "
        f"(bare websockets {ceiling.admitted_s:.2f} s, ratio {ratio:.2f}); ready in "
        f"{measured.ready_s:.2f} s (bare {ceiling.ready_s:.2f} s)"
    )
    assert ratio <= RATIO_BOUND
