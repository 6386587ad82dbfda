"""The city on a real voltbook server: a server process of its own with accelerated time
(ADR 0020), the network imported through its command line, every charger a real OCPP
client (voltbook.sim), every driver's question a real HTTP request."""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import httpx
import simpy

from voltbook.city.demand import Need
from voltbook.city.engine import Wait
from voltbook.city.listeners import OCPI, OfferDesk, OfferTerms
from voltbook.city.network import Network
from voltbook.city.ports import Booking, Offered, Seen
from voltbook.sim import SimOptions, SimulatedStation, fetch_station_specs, use_simulated_time

T = TypeVar("T")
ORIGIN = datetime(2026, 3, 2, tzinfo=UTC)  # a Monday: simulated days start here
OPERATOR = "city-operator@voltbook.example"
READY_S = 120.0  # a server start on a loaded two-core machine has taken over 30 s
DRIVERS = 10  # accounts the bookings of drivers without offers are spread over


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@dataclass
class Server:
    url: str
    scale: float
    anchor: float
    operator_password: str
    grace_s: float


def _voltbook(env: dict[str, str], *args: str) -> None:
    subprocess.run(  # noqa: S603 - our own command line, fixed arguments
        [sys.executable, "-m", "voltbook", *args], env=env, check=True, capture_output=True
    )


@contextlib.asynccontextmanager
async def voltbook_server(network: Network, scale: float, workdir: Path) -> AsyncIterator[Server]:
    """A voltbook server process for one run: its own SQLite database, the network's sites
    imported, an operator account; stopped and removed at the end."""
    port, anchor, password = free_port(), time.time(), secrets.token_urlsafe(12)
    grace_s = 900.0
    env = {
        **os.environ,
        "VOLTBOOK_DATA_DIR": str(workdir),
        "VOLTBOOK_DATABASE_URL": f"sqlite+aiosqlite:///{workdir / 'city.sqlite3'}",
        "VOLTBOOK_JWT_SECRET": secrets.token_urlsafe(40),
        "VOLTBOOK_SIMULATION": "true",
        "VOLTBOOK_TIME_SCALE": str(scale),
        "VOLTBOOK_TIME_ORIGIN": ORIGIN.isoformat(),
        "VOLTBOOK_TIME_ANCHOR": repr(anchor),
        "VOLTBOOK_OCPP_ACCEPT_UNKNOWN_ID_TAGS": "true",  # walk-in drivers' own cards
        "VOLTBOOK_TOKEN_LIFETIME_S": str(60 * 86_400),  # outlives a run in simulated time
        "VOLTBOOK_RESERVATION_MAX_LIVE_PER_DRIVER": "1000",
        "VOLTBOOK_RESERVATION_GRACE_S": str(int(grace_s)),
        # Offers: a city driver needs a charge about once a day, so the per-driver hourly
        # cap never binds a real one; simulated accounts hear offers only while searching.
        "VOLTBOOK_OFFER_MAX_PER_HOUR": "1000",
        "VOLTBOOK_LOG_LEVEL": "warning",
    }
    sites = workdir / "sites.csv"
    network.write_import_csv(sites)
    await asyncio.to_thread(_voltbook, env, "import-stations", str(sites), "--source", "city")
    await asyncio.to_thread(
        _voltbook, env, "user", "create", OPERATOR, "--role", "operator", "--password", password
    )
    with (workdir / "server.log").open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "voltbook", "serve", "--port", str(port),
            env=env, stdout=subprocess.DEVNULL, stderr=log,
        )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=url, timeout=2) as http:
            deadline = time.monotonic() + READY_S
            while True:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        break
                if process.returncode is not None:
                    raise RuntimeError("the voltbook server stopped while starting")
                if time.monotonic() > deadline:
                    raise RuntimeError("the voltbook server did not get ready")
                await asyncio.sleep(0.1)
        yield Server(url, scale, anchor, password, grace_s)
    finally:
        process.terminate()
        try:
            async with asyncio.timeout(20):
                await process.wait()
        except TimeoutError:
            process.kill()
            await process.wait()


class ServerPort:
    """The city's questions as HTTP requests and OCPP sessions on a running server."""

    def __init__(self, server: Server, network: Network, drivers: int = DRIVERS) -> None:
        self.server, self.network, self.accounts = server, network, drivers
        self.http = httpx.AsyncClient(base_url=server.url, timeout=30)
        self.stations: dict[str, SimulatedStation] = {}
        self.drivers: list[dict[str, str]] = []
        self.errors = 0
        self.requests = 0
        self.refusals: Counter[str] = Counter()  # why chargers refused a start
        self._tasks: list[asyncio.Task[None]] = []
        self._turn = 0
        self.desk: OfferDesk | None = None
        self.operator: dict[str, str] = {}
        self.redeemed = 0  # sessions the server counted as redeeming an offer

    async def open(
        self, seed: int, needs: list[Need] | None = None, terms: OfferTerms | None = None
    ) -> None:
        """Chargers connected and booted, driver accounts signed in; with `terms`, the
        operator's offer and an account on the live channel per consenting driver."""
        use_simulated_time(self.server.scale, ORIGIN, self.server.anchor)
        specs = await fetch_station_specs(
            self.server.url,
            OPERATOR,
            self.server.operator_password,
            len(self.network.sites),
            take_over=True,  # the city's own server: its stations are the simulated chargers
        )
        options = SimOptions(
            version="1.6", session_rate=0, meter_interval=120.0, speed=self.server.scale,
            auto_stop=False, seed=seed, reconnect_base=0.2, reconnect_cap=2.0,
            on_event=self._charger_said,
        )  # fmt: skip
        for spec in specs:
            station = SimulatedStation(self.server.url, spec, options)
            self.stations[spec.id] = station
            self._tasks.append(asyncio.create_task(station.run()))
        async with asyncio.timeout(120 + len(specs)):  # a busy machine boots them slowly
            while not all(s.booted for s in self.stations.values()):  # noqa: ASYNC110
                await asyncio.sleep(0.1)
        for n in range(self.accounts):
            email, password = f"driver-{n}@city.example", secrets.token_urlsafe(12)
            made = await self.http.post(
                "/api/v1/auth/register", json={"email": email, "password": password}
            )
            made.raise_for_status()
            token = await self.http.post(
                "/api/v1/auth/token", data={"username": email, "password": password}
            )
            token.raise_for_status()
            self.drivers.append({"Authorization": f"Bearer {token.json()['access_token']}"})
        if terms is not None and needs is not None:
            signed = await self.http.post(
                "/api/v1/auth/token",
                data={"username": OPERATOR, "password": self.server.operator_password},
            )
            signed.raise_for_status()
            self.operator = {"Authorization": f"Bearer {signed.json()['access_token']}"}
            self.desk = OfferDesk(
                self.server.url, self.server.scale, self.http, uuid.uuid4().hex[:8]
            )
            await self.desk.open(self.operator, self.network, needs, terms)

    def _charger_said(self, _station: str, text: str) -> None:
        if "refused locally" in text:
            self.refusals[text.rsplit("(", 1)[-1].rstrip(")")] += 1
        elif "not authorized" in text:
            self.refusals["not authorized by the server"] += 1

    async def close(self) -> None:
        if self.desk is not None:
            with contextlib.suppress(httpx.HTTPError):
                self.redeemed = await self.desk.redeemed(self.operator)
            await self.desk.close()
        for station in self.stations.values():
            with contextlib.suppress(Exception):
                await station.stop()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.http.aclose()
        use_simulated_time(1.0, None, 0.0)

    async def available(self, need: Need, lat: float, lon: float, radius_km: float) -> list[Seen]:
        self.requests += 1
        try:
            answer = await self.http.get(
                "/api/v1/stations/nearby",
                params={"lat": lat, "lon": lon, "radius_m": int(radius_km * 1000), "limit": 50,
                        "available": "true", "connector": ",".join(need.standards)},
            )  # fmt: skip
            answer.raise_for_status()
        except httpx.HTTPError:
            self.errors += 1
            return []
        power = "DC" if need.dc else "AC"
        wanted = {OCPI.get(name, name) for name in need.standards}
        seen: list[Seen] = []
        for site in answer.json()["items"]:
            for station in site["stations"]:
                seen.extend(
                    Seen(station["id"], int(c["evse_id"]), float(site["distance_m"]) / 1000)
                    for c in station["connectors"]
                    if c["status"] == "Available" and c.get("power_type") == power
                    and c.get("standard") in wanted
                )  # fmt: skip
        return seen

    async def share_position(self, need: Need, lat: float, lon: float) -> None:
        if self.desk is None:
            return
        self.requests += 1
        try:
            await self.desk.share(need, lat, lon)
        except Exception:  # a lost live channel: the position did not arrive
            self.errors += 1

    async def offer(self, need: Need, lat: float, lon: float, listen_s: float) -> Offered | None:
        if self.desk is None:
            return None
        try:
            return await self.desk.listen(need, listen_s)
        except Exception:  # a lost live channel: no offer heard
            self.errors += 1
            return None

    async def reserve_for(
        self, need: Need, offered: Offered, site_id: str, evse_id: int, minutes: int
    ) -> Booking | None:
        headers = self.desk.headers_of(need) if self.desk is not None else None
        return await self._reserve(site_id, evse_id, minutes, headers)

    async def reserve(self, need: Need, site_id: str, evse_id: int, minutes: int) -> Booking | None:
        return await self._reserve(site_id, evse_id, minutes, None)

    async def _reserve(
        self, site_id: str, evse_id: int, minutes: int, headers: dict[str, str] | None
    ) -> Booking | None:
        self.requests += 1
        if headers is None:
            self._turn = (self._turn + 1) % len(self.drivers)
            headers = self.drivers[self._turn]
        try:
            answer = await self.http.post(
                "/api/v1/reservations",
                json={"station_id": site_id, "connector_id": evse_id, "minutes": minutes},
                headers=headers | {"Idempotency-Key": uuid.uuid4().hex},
            )
        except httpx.HTTPError:
            self.errors += 1
            return None
        if answer.status_code != 201:
            return None  # taken meanwhile (409) or refused: the driver goes as in B1
        body = answer.json()
        return Booking(str(body["id"]), site_id, evse_id, str(body["id_tag"]))

    async def plug(self, site_id: str, evse_id: int, id_tag: str) -> bool:
        self.requests += 1
        try:
            return await self.stations[site_id].start_session(evse_id, id_tag)
        except Exception:  # a lost connection: the charger did not start
            self.errors += 1
            return False

    async def unplug(self, site_id: str, evse_id: int) -> None:
        station = self.stations[site_id]
        with contextlib.suppress(Exception):
            await station.stop_session(evse_id)
        connector = station.connectors.get(evse_id)
        if connector is not None:
            station.unplug(connector)

    async def fault(self, site_id: str, evse_id: int) -> None:
        self.stations[site_id].fault(evse_id)

    async def recover(self, site_id: str, evse_id: int) -> None:
        self.stations[site_id].recover(evse_id)


class RealTime:
    """Runs a simpy environment in step with the server's scaled clock: simulated second s
    falls `s / scale` real seconds after `start`; port calls are asyncio tasks whose answers
    reach their process at the simulated time they arrive."""

    def __init__(self, env: simpy.Environment, scale: float) -> None:
        self.env, self.scale = env, scale
        self._done: deque[tuple[simpy.Event, asyncio.Future[Any]]] = deque()
        self._signal = asyncio.Event()
        self._open: set[asyncio.Future[Any]] = set()
        self.max_lag_s = 0.0  # simulated seconds the engine fell behind the clock

    def ask(self, call: Coroutine[Any, Any, T]) -> Wait[T]:
        event = self.env.event()
        task = asyncio.ensure_future(call)
        self._open.add(task)

        def landed(done: asyncio.Future[Any]) -> None:
            self._open.discard(done)
            self._done.append((event, done))
            self._signal.set()

        task.add_done_callback(landed)
        finished = yield event
        return finished.result()  # type: ignore[no-any-return]

    async def run(self, until: float) -> None:
        began = time.monotonic()
        while self.env.now < until:
            while self._done:
                event, task = self._done.popleft()
                event.succeed(task)
            clock = (time.monotonic() - began) * self.scale
            target = min(until, clock)
            if target > self.env.now:
                self.env.run(until=target)
                self.max_lag_s = max(
                    self.max_lag_s, (time.monotonic() - began) * self.scale - target
                )
            due = min(until, self.env.peek())
            pause = (due - (time.monotonic() - began) * self.scale) / self.scale
            self._signal.clear()
            if pause > 0 and not self._done:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._signal.wait(), timeout=min(pause, 0.5))
            else:
                await asyncio.sleep(0)
        for task in list(self._open):  # questions still out at the horizon
            task.cancel()
        await asyncio.gather(*self._open, return_exceptions=True)


def workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="voltbook-city-")
