"""Arms T2 and T3 on the real server: the operator's idle-station offer made over the API,
and the drivers who take offers, each with an account of their own (a vehicle of the need's
plug, consent to share the position and receive offers, a card linked to the account) and
an open live channel on which they report where they are and hear offers.

One account per consenting driver of the run: voltbook tells a driver of an idle stretch
once, so an account shared between drivers would hide offers from the later ones."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from voltbook.city.demand import Need
from voltbook.city.network import Network, distance_km
from voltbook.city.ports import Offered

# The import file's connector names as the API reports them (OCPI 2.2.1 ConnectorType).
OCPI = {"J1772": "IEC_62196_T1", "CCS1": "IEC_62196_T1_COMBO", "CHADEMO": "CHADEMO",
        "NACS": "TESLA_S", "GBT": "GBT_DC"}  # fmt: skip
SETUP_AT_ONCE = 4  # accounts made concurrently
TRIES = 5  # a city server on SQLite may answer 500 ("database is locked") under load


@dataclass
class Listener:
    headers: dict[str, str]
    card: str
    inbox: asyncio.Queue[dict[str, Any]] = field(default_factory=asyncio.Queue)
    socket: ClientConnection | None = None


@dataclass(frozen=True)
class OfferTerms:
    percent_off: float
    idle_minutes: int
    ends_at: datetime


class OfferDesk:
    def __init__(self, url: str, scale: float, http: httpx.AsyncClient, run_id: str) -> None:
        self.url, self.scale, self.http, self.run_id = url, scale, http, run_id
        self.listeners: dict[int, Listener] = {}  # need id -> its driver's account
        self.offer_id: int | None = None
        self.sent = 0  # offers heard on the live channel
        self._readers: list[asyncio.Task[None]] = []

    async def open(
        self, operator: dict[str, str], network: Network, needs: list[Need], terms: OfferTerms
    ) -> None:
        """The offer over the whole city, then an account and a live channel per driver."""
        lat0, lon0 = network.centre
        reach = max(distance_km(lat0, lon0, s.lat, s.lon) for s in network.sites) + 1.0
        made = await self.http.post(
            "/api/v1/operator/offers",
            headers=operator,
            json={
                "title": f"{terms.percent_off:g} % off at an idle charger",
                "kind": "percent_off",
                "value": terms.percent_off,
                "area": {"lat": lat0, "lon": lon0,
                         "radius_m": min(50_000.0, max(1_000.0, reach * 1000))},
                "trigger": "idle_station",
                "idle_minutes": terms.idle_minutes,
                "ends_at": terms.ends_at.isoformat(),
                "max_per_driver": 1000,
            },
        )  # fmt: skip
        made.raise_for_status()
        self.offer_id = int(made.json()["id"])
        limit = asyncio.Semaphore(SETUP_AT_ONCE)

        async def one(need: Need) -> None:
            async with limit:
                self.listeners[need.id] = await self._account(operator, need)

        await asyncio.gather(*(one(n) for n in needs if n.consents))

    async def _account(self, operator: dict[str, str], need: Need) -> Listener:
        email = f"driver-{need.id}-{self.run_id}@city.example"
        password = secrets.token_urlsafe(12)
        made = await self._send("POST", "/api/v1/auth/register",
                                json={"email": email, "password": password})  # fmt: skip
        driver_id = str(made.json()["id"])
        token = await self._send("POST", "/api/v1/auth/token",
                                 data={"username": email, "password": password})  # fmt: skip
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        await self._send("PATCH", "/api/v1/me", headers=headers,
                         json={"consent_location": True, "consent_offers": True})  # fmt: skip
        await self._send("POST", "/api/v1/vehicles", headers=headers,
                         json={"name": "city car", "battery_kwh": 60,
                               "standards": [OCPI.get(s, s) for s in need.standards]})  # fmt: skip
        await self._send("POST", "/api/v1/operator/id-tokens", headers=operator,
                         json={"token": f"CARD{need.id}", "driver_id": driver_id})  # fmt: skip
        listener = Listener(headers, f"CARD{need.id}")
        ws_url = self.url.replace("http://", "ws://", 1) + "/api/v1/live"
        listener.socket = await connect(ws_url, additional_headers=headers, open_timeout=30)
        self._readers.append(asyncio.create_task(self._read(listener)))
        return listener

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One set-up request, tried again after a 5xx (a register that did commit before
        its 500 answers 409 on the retry, which is raised)."""
        for attempt in range(TRIES):
            answer = await self.http.request(method, url, **kwargs)
            if answer.status_code < 500 or attempt == TRIES - 1:
                answer.raise_for_status()
                return answer
            await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    async def _read(self, listener: Listener) -> None:
        assert listener.socket is not None
        with contextlib.suppress(Exception):  # the socket closed: nothing more to hear
            async for text in listener.socket:
                message = json.loads(text)
                if isinstance(message, dict) and message.get("type") == "offer":
                    await listener.inbox.put(message)

    async def share(self, need: Need, lat: float, lon: float) -> None:
        """The driver's position on the live channel (offers heard before it are dropped:
        the account's driver did not need a charge yet)."""
        listener = self.listeners.get(need.id)
        if listener is None or listener.socket is None:
            return
        while not listener.inbox.empty():
            listener.inbox.get_nowait()
        await listener.socket.send(
            json.dumps({"type": "location", "lat": lat, "lon": lon, "accuracy_m": 20})
        )

    async def listen(self, need: Need, listen_s: float) -> Offered | None:
        """The first offer heard since the position went out, waiting at most `listen_s`
        simulated seconds more for one."""
        listener = self.listeners.get(need.id)
        if listener is None:
            return None
        try:
            async with asyncio.timeout(listen_s / self.scale):
                while True:
                    message = await listener.inbox.get()
                    if message.get("station_id"):
                        break
        except TimeoutError:
            return None
        self.sent += 1
        return Offered(str(message["station_id"]), float(message["value"]), listener.card)

    def headers_of(self, need: Need) -> dict[str, str] | None:
        listener = self.listeners.get(need.id)
        return None if listener is None else listener.headers

    async def redeemed(self, operator: dict[str, str]) -> int:
        """Sessions the server counted as redeeming the offer."""
        if self.offer_id is None:
            return 0
        answer = await self.http.get(f"/api/v1/operator/offers/{self.offer_id}", headers=operator)
        if answer.status_code != 200:
            return 0
        stats = answer.json().get("stats") or {}
        return int(stats.get("redeemed", 0))

    async def close(self) -> None:
        for listener in self.listeners.values():
            if listener.socket is not None:
                with contextlib.suppress(Exception):
                    await listener.socket.close()
        for task in self._readers:
            task.cancel()
        await asyncio.gather(*self._readers, return_exceptions=True)


def offer_terms(percent_off: float, idle_minutes: int, origin: datetime, days: float) -> OfferTerms:
    return OfferTerms(percent_off, idle_minutes, origin + timedelta(days=days + 30))
