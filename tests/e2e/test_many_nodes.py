"""Two `voltbook serve` nodes on one PostgreSQL and one Redis: an operator command sent to one
node reaches a station whose socket lives on the other, and comes back with its answer."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import secrets
import signal
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
import websockets
from redis.asyncio import Redis
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.e2e.conftest import OPERATOR_PASSWORD, free_port, pg_admin, server_settings
from tests.e2e.ocpp_client import connect
from tests.e2e.test_reservation_crash import start_server
from voltbook.bootstrap import open_services
from voltbook.drivers.model import Role
from voltbook.storage import migrate
from voltbook.storage.database import create_engine
from voltbook.storage.tables import stations

pytestmark = pytest.mark.postgres

SECRET = "many-nodes-secret-that-is-long-enough-for-hs256-0123456789"
REDIS_URL = os.environ.get("VOLTBOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
STATION = "NODE-TEST-1"
STATION_PASSWORD = "many-nodes-station-pass"


@dataclass
class Node:
    url: str
    process: asyncio.subprocess.Process
    log: Path


@dataclass
class TwoNodes:
    a: Node
    b: Node
    operator: dict[str, str]

    def logs(self) -> str:
        return "\n".join(f"--- {n.log.name}\n{n.log.read_text()[-3000:]}" for n in (self.a, self.b))


@pytest.fixture
async def pg_url(pg_url: str) -> AsyncIterator[str]:
    """A PostgreSQL database of these nodes' own: no other server polls its jobs."""
    name = f"voltbook_nodes_{os.getpid()}_{secrets.token_hex(4)}"
    await pg_admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_url).set(database=name).render_as_string(False)
    finally:
        await pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def pg_engine(pg_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(pg_url)
    try:
        await migrate.upgrade(engine)  # once, before the nodes start
        yield engine
    finally:
        await engine.dispose()


async def stop(node: Node) -> None:
    if node.process.returncode is not None:
        return  # killed by the test
    node.process.send_signal(signal.SIGTERM)
    try:
        async with asyncio.timeout(20):
            await node.process.wait()
    except TimeoutError:
        node.process.kill()
        await node.process.wait()


@pytest.fixture
def node_env() -> dict[str, str]:
    """Settings a test module wants on both nodes (override the fixture)."""
    return {}


@pytest.fixture
async def nodes(
    pg_engine: AsyncEngine, pg_url: str, tmp_path: Path, node_env: dict[str, str]
) -> AsyncIterator[TwoNodes]:
    from voltbook.security.passwords import Argon2idHasher

    async with pg_engine.begin() as connection:
        await connection.execute(
            stations.insert().values(
                id=STATION,
                online=False,
                created_at=datetime.now(UTC),
                password_hash=Argon2idHasher(time_cost=1, memory_cost_kib=8192).hash(
                    STATION_PASSWORD
                ),
            )
        )
    email = f"operator-{secrets.token_hex(4)}@example.org"
    async with open_services(server_settings(pg_url, tmp_path)) as services:
        await services.accounts.register(email, OPERATOR_PASSWORD, Role.OPERATOR)
    prefix = f"voltbook-e2e-{secrets.token_hex(6)}"
    started: list[Node] = []
    try:
        for name in ("a", "b"):
            port = free_port()
            data = tmp_path / name
            data.mkdir()
            env = (
                os.environ
                | {
                    "VOLTBOOK_DATABASE_URL": pg_url,
                    "VOLTBOOK_DATA_DIR": str(data),
                    "VOLTBOOK_JWT_SECRET": SECRET,
                    "VOLTBOOK_LOG_LEVEL": "info",
                    "VOLTBOOK_REDIS_URL": REDIS_URL,
                    "VOLTBOOK_REDIS_PREFIX": prefix,
                }
                | node_env
            )
            log = tmp_path / f"node-{name}.log"
            started.append(
                Node(f"http://127.0.0.1:{port}", await start_server(env, port, log), log)
            )
        async with httpx.AsyncClient(base_url=started[1].url) as client:
            token = await client.post(
                "/api/v1/auth/token", data={"username": email, "password": OPERATOR_PASSWORD}
            )
        yield TwoNodes(
            started[0], started[1], {"Authorization": f"Bearer {token.json()['access_token']}"}
        )
    finally:
        for node in started:
            await stop(node)
        redis = Redis.from_url(REDIS_URL)
        with contextlib.suppress(Exception):
            keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
            if keys:
                await redis.delete(*keys)
        await redis.aclose()


RESET = f"/api/v1/operator/stations/{STATION}/commands/reset"


async def test_an_operator_command_sent_to_node_b_reaches_a_station_connected_to_node_a(
    nodes: TwoNodes,
) -> None:
    async with (
        connect(nodes.a.url, STATION, STATION_PASSWORD) as station,
        httpx.AsyncClient(base_url=nodes.b.url, timeout=20) as node_b,
    ):
        station.answers = {"Reset": {"status": "Accepted"}}
        await station.call("Heartbeat", {})  # the socket is up and node A has claimed it
        answer = await node_b.post(RESET, json={"hard": True}, headers=nodes.operator)
        assert answer.status_code == 200, answer.text + nodes.logs()
        assert answer.json() == {
            "command": "reset",
            "action": "Reset",
            "status": "Accepted",
            "response": {"status": "Accepted"},
        }
        assert [(f[2], f[3]) for f in station.received_calls] == [("Reset", {"type": "Hard"})]

        station.answers = {"Reset": {"status": "Rejected"}}
        again = await node_b.post(RESET, json={"hard": False}, headers=nodes.operator)
        assert again.json()["status"] == "Rejected"  # the station's own word, not a default
        assert station.received_calls[-1][3] == {"type": "Soft"}


async def test_a_station_silent_on_node_a_times_out_on_node_b(nodes: TwoNodes) -> None:
    async with (
        connect(nodes.a.url, STATION, STATION_PASSWORD) as station,
        httpx.AsyncClient(base_url=nodes.b.url, timeout=20) as node_b,
    ):
        await station.call("Heartbeat", {})  # and no answers scripted: it never replies
        answer = await node_b.post(
            RESET, params={"timeout_s": 1}, json={"hard": True}, headers=nodes.operator
        )
        assert answer.status_code == 504, answer.text
        assert answer.json()["type"] == "urn:voltbook:problem:timed-out"
        assert [f[2] for f in station.received_calls] == ["Reset"]


async def test_once_the_station_left_node_a_a_command_on_node_b_is_refused_with_409(
    nodes: TwoNodes,
) -> None:
    async with connect(nodes.a.url, STATION, STATION_PASSWORD) as station:
        station.answers = {"Reset": {"status": "Accepted"}}
        await station.call("Heartbeat", {})
    async with httpx.AsyncClient(base_url=nodes.b.url, timeout=20) as node_b:
        async with asyncio.timeout(10):  # node A hears the close and lets the station go
            while True:
                answer = await node_b.post(RESET, json={"hard": True}, headers=nodes.operator)
                if answer.status_code != 200:
                    break
                await asyncio.sleep(0.1)
        assert answer.status_code == 409, answer.text
        assert answer.json()["type"] == "urn:voltbook:problem:unavailable"


async def test_a_station_that_moves_from_node_a_to_node_b_is_reached_on_its_new_node(
    nodes: TwoNodes,
) -> None:
    async with httpx.AsyncClient(base_url=nodes.a.url, timeout=20) as node_a:
        async with connect(nodes.a.url, STATION, STATION_PASSWORD) as first:
            await first.call("Heartbeat", {})
        async with connect(nodes.b.url, STATION, STATION_PASSWORD) as moved:
            moved.answers = {"Reset": {"status": "Accepted"}}
            await moved.call("Heartbeat", {})
            answer = await node_a.post(RESET, json={"hard": True}, headers=nodes.operator)
            assert answer.status_code == 200, answer.text + nodes.logs()
            assert [f[2] for f in moved.received_calls] == ["Reset"]


async def driver_token(engine: AsyncEngine) -> tuple[str, dict[str, str]]:
    from tests.e2e.sign_ins import tokens_for
    from voltbook.storage.tables import drivers

    driver_id = f"drv-{secrets.token_hex(5)}"
    async with engine.begin() as connection:
        await connection.execute(
            drivers.insert().values(
                id=driver_id, email=f"{driver_id}@example.org", password_hash="unused",
                role="driver", created_at=datetime.now(UTC),
            )
        )  # fmt: skip
        [token] = await tokens_for(connection, SECRET, [driver_id])
    return driver_id, {"Authorization": f"Bearer {token}"}


async def next_of(socket: websockets.ClientConnection, kind: str) -> dict[str, object]:
    async with asyncio.timeout(10):
        while True:
            message: dict[str, object] = json.loads(await socket.recv())
            if message["type"] == kind:
                return message


async def test_a_driver_connected_to_node_b_hears_what_happens_on_node_a(
    nodes: TwoNodes, pg_engine: AsyncEngine
) -> None:
    _, driver = await driver_token(pg_engine)
    live_b = nodes.b.url.replace("http://", "ws://") + "/api/v1/live"
    async with (
        connect(nodes.a.url, STATION, STATION_PASSWORD) as station,
        websockets.connect(live_b, additional_headers=driver) as app,
        httpx.AsyncClient(base_url=nodes.a.url, timeout=20) as node_a,
    ):
        station.answers = {"ReserveNow": {"status": "Accepted"}}
        await next_of(app, "welcome")
        await app.send(json.dumps({"type": "subscribe", "id": 1, "topic": f"station:{STATION}"}))
        await next_of(app, "subscribed")
        stamp = datetime.now(UTC).isoformat().replace("+00:00", "Z")
        await station.call(
            "StatusNotification",
            {"connectorId": 1, "errorCode": "NoError", "status": "Available", "timestamp": stamp},
        )
        heard = await next_of(app, "station.status")
        assert (heard["station_id"], heard["status"]) == (STATION, "Available"), nodes.logs()

        booked = await node_a.post(
            "/api/v1/reservations",
            json={"station_id": STATION, "connector_id": 1, "minutes": 30},
            headers=driver | {"Idempotency-Key": "booking-1"},
        )
        assert booked.status_code == 201, booked.text
        created = await next_of(app, "reservation.updated")
        held = await next_of(app, "reservation.updated")
    assert (created["seq"], created["event"]) == (1, "created")
    assert (held["seq"], held["event"]) == (2, "held")


async def test_a_rotated_password_drops_the_old_one_on_every_node(nodes: TwoNodes) -> None:
    """Node B admitted the station's password before; once the station connects to node A
    with its rotated password, node B refuses the old one too (docs/adr/0025)."""
    async with connect(nodes.b.url, STATION, STATION_PASSWORD) as station:
        await station.call("Heartbeat", {})
    async with (
        connect(nodes.a.url, STATION, STATION_PASSWORD) as station,
        httpx.AsyncClient(base_url=nodes.b.url, timeout=20) as node_b,
    ):
        station.answers = {"ChangeConfiguration": {"status": "Accepted"}}
        await station.call("Heartbeat", {})
        rotated = await node_b.post(
            f"/api/v1/operator/stations/{STATION}/password-rotation", headers=nodes.operator
        )
        assert rotated.status_code == 200, rotated.text + nodes.logs()
        new = rotated.json()["password"]
        assert new
    async with connect(nodes.a.url, STATION, new) as station:
        await station.call("Heartbeat", {})

    async def old_refused_on_b() -> bool:
        try:
            async with connect(nodes.b.url, STATION, STATION_PASSWORD):
                return False
        except websockets.InvalidStatus as error:
            return error.response.status_code == 401

    async with asyncio.timeout(10):
        while not await old_refused_on_b():
            await asyncio.sleep(0.2)
    async with connect(nodes.b.url, STATION, new) as station:
        assert (await station.call("Heartbeat", {}))[0] == 3
