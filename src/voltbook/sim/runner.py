"""Run simulated stations: the connection lifecycle, and provisioning from the operator API.

`SimulatedStation` connects (subprotocol + HTTP Basic auth), boots, sends heartbeats and
reconnects with exponential backoff and jitter; `fetch_station_specs` signs in as an
operator, pages through the stations and sets a fresh password for each; `run_stations`
runs them all until cancelled.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus, WebSocketException
from websockets.typing import Subprotocol

from voltbook.sim.control import start_control_server
from voltbook.sim.credentials import StationPassword
from voltbook.sim.model import (
    Behaviour,
    ConnectorSpec,
    SimOptions,
    StationSpec,
    describe,
)
from voltbook.sim.rpc import CallError, ConnectionLost, RpcConnection
from voltbook.sim.station import StationCore
from voltbook.sim.v16 import V16
from voltbook.sim.v201 import V201

log = logging.getLogger(__name__)
BOOT_RETRY_S = 10.0
PAGE_SIZE = 100


class SimError(Exception):
    """The simulator cannot start (sign-in, station list or credentials failed)."""


def websocket_url(url: str, station_id: str) -> str:
    """http://host:port[/prefix] -> ws://host:port[/prefix]/ocpp/{station_id} (https -> wss)."""
    parts = urlsplit(url)
    scheme = "wss" if parts.scheme in ("https", "wss") else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/ocpp/{quote(station_id, safe='')}"


def make_behaviour(
    station: StationCore, version: str, password: StationPassword | None = None
) -> Behaviour:
    if version in ("1.6", "ocpp1.6"):
        return V16(station, password)
    if version in ("2.0.1", "ocpp2.0.1"):
        return V201(station, password)
    raise ValueError(f"unsupported OCPP version {version!r} (use 1.6 or 2.0.1)")


class SimulatedStation(StationCore):
    """A charging station speaking OCPP 1.6J or 2.0.1 to the server, until stopped."""

    def __init__(self, url: str, spec: StationSpec, options: SimOptions | None = None) -> None:
        super().__init__(url, spec, options)
        # The server may give it a new password (then it reconnects with that one).
        self.password = StationPassword(spec.id, spec.password, self._reconnect)
        self.behaviour = make_behaviour(self, self.options.version, self.password)
        self.ws_url = websocket_url(url, spec.id)
        self._drop = asyncio.Event()  # set: close the current connection
        self._down = asyncio.Event()  # set while there is no connection
        self._down.set()
        self._offline_until = 0.0
        self._wake = asyncio.Event()  # set: stop waiting to reconnect
        self._reconnect_after: float | None = None
        self._run_task: asyncio.Task[Any] | None = None

    async def run(self) -> None:
        """Connect, boot and behave like a charger; reconnects until cancelled or stopped."""
        if self._run_task is not None:
            raise RuntimeError(f"station {self.id} is already running")
        self._run_task = asyncio.current_task()
        loop = asyncio.get_running_loop()
        self.spawn(self.outbox.run())
        self.spawn(self._random_sessions())
        attempt = 0
        try:
            while True:
                await self._pause(self._offline_until - loop.time())
                if await self._connect_once():
                    attempt = 0
                if self._reconnect_after is not None:
                    delay, self._reconnect_after = self._reconnect_after, None
                else:
                    delay = self._backoff(attempt)
                    attempt += 1
                await self._pause(delay)
        finally:
            await self.cancel_tasks()
            self._run_task = None

    async def stop(self) -> None:
        """Close the connection and end `run()`."""
        task = self._run_task
        if task is not None and not task.done() and task is not asyncio.current_task():
            task.cancel()
            await asyncio.wait({task})

    async def go_offline(self, seconds: float) -> None:
        """Drop the connection now (after the CALL in flight) and reconnect after `seconds`.

        Returns once offline. Meanwhile transactions go on and their messages are queued.
        """
        self._offline_until = asyncio.get_running_loop().time() + seconds
        self._reconnect_after = 0.0
        await self.outbox.detach()
        self.booted = False
        self._drop.set()
        await self._down.wait()
        self.emit(f"offline for {seconds:g} s")

    def come_online(self) -> None:
        """End an offline spell (or a reconnect wait) now."""
        self._offline_until = 0.0
        self._wake.set()

    async def _pause(self, seconds: float) -> None:
        self._wake.clear()
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), seconds)

    async def _reconnect(self) -> None:
        """Connect again at once (with a new password): the same connection lifecycle as
        an offline spell of no length; transactions go on."""
        self.emit("reconnecting with the new password")
        await self.go_offline(0)

    async def restart(self) -> None:
        """Reboot: close the connection, come back after the reboot delay and boot again."""
        self.boot_reason = "RemoteReset"
        await self.go_offline(self.options.reboot_delay)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(
            self.options.reconnect_cap, self.options.reconnect_base * 2.0 ** min(attempt, 16)
        )
        return ceiling * self.rng.uniform(0.5, 1.0)

    async def _connect_once(self) -> bool:
        """One connection, from the handshake to its end; True when the boot was accepted."""
        self._drop.clear()
        try:
            async with connect(
                self.ws_url,
                subprotocols=[Subprotocol(self.behaviour.subprotocol)],
                additional_headers={"Authorization": self.password.header},
                open_timeout=self.options.call_timeout,
                close_timeout=2,
                proxy=None,
            ) as websocket:
                return await self._connected(websocket)
        except InvalidStatus as error:
            self.emit(f"connection refused: HTTP {error.response.status_code}")
        except (OSError, TimeoutError, WebSocketException) as error:
            self.emit(f"cannot connect: {describe(error)}")
        return False

    async def _connected(self, websocket: ClientConnection) -> bool:
        if websocket.subprotocol != self.behaviour.subprotocol:
            self.emit(f"the server did not accept subprotocol {self.behaviour.subprotocol}")
            return False
        if asyncio.get_running_loop().time() < self._offline_until:
            return False
        self.connected = True
        self._down.clear()
        self.emit(f"connected ({self.behaviour.subprotocol})")
        conn = RpcConnection(
            websocket,
            self.behaviour.handle,
            codes=self.behaviour.codes,
            call_timeout=self.options.call_timeout,
            spawn=self.spawn,
            call_bytes=self.behaviour.call_bytes,
        )
        reader = asyncio.create_task(conn.serve())
        online = asyncio.create_task(self._online(conn))
        dropped = asyncio.create_task(self._drop.wait())
        booted = requested = False
        try:
            await asyncio.wait({reader, online, dropped}, return_when=asyncio.FIRST_COMPLETED)
            booted, requested = self.booted, dropped.done()
            if requested:
                await conn.flush(1.0)
        finally:
            self.outbox.detach_now()
            self.connected = self.booted = False
            for task in (reader, online, dropped):
                task.cancel()
            await asyncio.wait({reader, online, dropped})
            with contextlib.suppress(Exception):
                await websocket.close()  # a normal closure, even when stopped
            self._down.set()
        if online.done() and not online.cancelled():
            error = online.exception()
            if error is not None and not isinstance(error, ConnectionLost):
                log.error("%s: connection handling failed", self.id, exc_info=error)
        if not requested:
            self.emit("disconnected")
        return booted

    async def _online(self, conn: RpcConnection) -> None:
        interval = await self._boot(conn)
        if self._drop.is_set():
            return
        cap = self.options.heartbeat_interval
        interval = interval if interval > 0 else self.settings.heartbeat_interval
        self.set_heartbeat_interval(min(interval, cap) if cap else interval)
        self.boot_reason = "PowerUp"
        self.booted = True
        self.outbox.attach(conn)
        self.emit(f"booted, heartbeat every {self.settings.heartbeat_interval:g} s")
        for connector in self.connectors.values():
            self.publish(connector, force=True)
        while True:
            self.heartbeat_changed.clear()
            try:
                await asyncio.wait_for(
                    self.heartbeat_changed.wait(), self.settings.heartbeat_interval
                )
            except TimeoutError:
                self.outbox.send("Heartbeat", {})

    async def _boot(self, conn: RpcConnection) -> float:
        """BootNotification until Accepted; returns the heartbeat interval."""
        while True:
            try:
                answer = await conn.call(
                    "BootNotification", self.behaviour.boot_request(self.boot_reason)
                )
            except (CallError, TimeoutError) as error:
                self.emit(f"BootNotification failed: {describe(error)}")
                await asyncio.sleep(self._backoff(3))
                continue
            status, interval = answer.get("status"), answer.get("interval")
            seconds = float(interval) if isinstance(interval, int | float) else 0.0
            if status == "Accepted":
                return seconds
            retry = seconds if seconds > 0 else BOOT_RETRY_S
            self.emit(f"boot {status}; retrying in {retry:g} s")
            await asyncio.sleep(retry)

    async def _random_sessions(self) -> None:
        """Drivers arrive as a Poisson process at `session_rate` per hour."""
        rate = self.options.session_rate / 3600.0
        if rate <= 0:
            return
        while True:
            await asyncio.sleep(self.rng.expovariate(rate))
            if not self.booted:
                continue
            id_tag = self.rng.choice(self.id_tags)
            free = [c for c in self.connectors.values() if self.refusal(c, id_tag) is None]
            if free:
                self.start_session(self.rng.choice(free).evse_id, id_tag)


# -- provisioning from the operator API ------------------------------------------------------


async def fetch_station_specs(
    url: str,
    email: str,
    password: str,
    count: int,
    *,
    near: tuple[float, float] | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    take_over: bool = False,
) -> list[StationSpec]:
    """Sign in, list stations (nearest `near` first) and provision `count` of them.

    The simulator never changes a station it did not make: for each listed station it
    registers a station of its own (`SIM-…`) at the same site with the same connectors, and
    gives new passwords only to its own stations that are offline (an online one is another
    simulator's). `take_over=True` gives new passwords to the listed stations themselves,
    locking out whatever charger uses them (for a server of one's own, like the demo's).
    """
    async with httpx.AsyncClient(base_url=url, transport=transport, timeout=30.0) as client:
        response = await client.post(
            "/api/v1/auth/token", data={"username": email, "password": password}
        )
        _check(response, "operator sign-in")
        headers = {"Authorization": f"Bearer {response.json()['access_token']}"}
        items: list[dict[str, Any]] = []
        cursor: str | None = None
        while len(items) < count:
            params: dict[str, str | int | float] = {"limit": PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            if near is not None:
                params["near_lat"], params["near_lon"] = near
            response = await client.get("/api/v1/operator/stations", params=params, headers=headers)
            _check(response, "station list")
            page = response.json()
            items.extend(page.get("items") or [])
            cursor = page.get("next_cursor")
            if not cursor:
                break
        specs: list[StationSpec] = []
        for chosen in _choose(items, count, take_over):
            item = chosen
            station_id = str(item["id"])
            if take_over or station_id.startswith(SIM_PREFIX):
                response = await client.post(
                    f"/api/v1/operator/stations/{quote(station_id, safe='')}/credentials",
                    headers=headers,
                )
                _check(response, f"credentials for {station_id}")
            else:  # a station of its own at the same site
                station_id = SIM_PREFIX + secrets.token_hex(6).upper()
                body = {"id": station_id, "site_id": item.get("site_id")}
                response = await client.post(
                    "/api/v1/operator/stations", json=body, headers=headers
                )
                _check(response, f"registering {station_id}")
                item = {**item, "id": station_id}
            specs.append(spec_from_item(item, str(response.json()["password"])))
        return specs


SIM_PREFIX = "SIM-"


def _choose(items: list[dict[str, Any]], count: int, take_over: bool) -> list[dict[str, Any]]:
    """The listed stations to simulate (or to simulate beside): with `take_over`, the first
    `count`; else the simulator's own offline stations first, then others' (never another
    simulator's online one, nor a station of its own as a model for another)."""
    if take_over:
        return items[:count]
    own = [i for i in items if str(i["id"]).startswith(SIM_PREFIX)]
    free = [i for i in own if not i.get("online")]
    others = [i for i in items if not str(i["id"]).startswith(SIM_PREFIX)]
    covered = len(free)
    return (free + others[: max(0, count - covered)])[:count]


def _check(response: httpx.Response, what: str) -> None:
    if response.status_code not in (200, 201):
        raise SimError(f"{what} failed: HTTP {response.status_code}")


def spec_from_item(item: dict[str, Any], password: str) -> StationSpec:
    """A station of the operator API's list as a `StationSpec`."""
    connectors = tuple(
        ConnectorSpec(
            evse_id=int(plug["evse_id"]),
            connector_id=int(plug.get("connector_id") or 1),
            standard=str(plug.get("standard") or "IEC_62196_T1"),
            power_type=str(plug.get("power_type") or "AC"),
            max_power_kw=float(plug["max_power_kw"]) if plug.get("max_power_kw") else None,
        )
        for plug in item.get("connectors") or []
    )
    return StationSpec(str(item["id"]), password, connectors or (ConnectorSpec(1),))


async def run_stations(url: str, stations: list[StationSpec], options: SimOptions) -> None:
    """Run the stations (and the control server if `options.control_port`) until cancelled."""
    simulated = [SimulatedStation(url, spec, options) for spec in stations]
    server = None
    if options.control_port:
        server = await start_control_server(simulated, options.control_port)
    try:
        async with asyncio.TaskGroup() as group:
            for station in simulated:
                group.create_task(station.run())
    finally:
        if server is not None:
            server.close()
            with contextlib.suppress(Exception):
                await server.wait_closed()
