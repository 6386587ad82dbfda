"""A tiny local HTTP control server for the simulator (asyncio streams, no framework).

Listens on 127.0.0.1 only. JSON in the answers, parameters in the query string:

    GET  /stations                              every station's state
    GET  /stations/{id}                         one station's state
    POST /stations/{id}/fault?evse=1&error_code=GroundFailure
    POST /stations/{id}/recover?evse=1
    POST /stations/{id}/offline?seconds=30
    POST /stations/{id}/start?evse=1&id_tag=SIM-1A2B3C
    POST /stations/{id}/stop?evse=1
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Sequence
from http import HTTPStatus
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

from voltbook.sim.model import rfc3339

if TYPE_CHECKING:
    from voltbook.sim.runner import SimulatedStation

MAX_HEAD = 16 * 1024
MAX_BODY = 64 * 1024


class HttpError(Exception):
    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


def snapshot(station: SimulatedStation) -> dict[str, Any]:
    """A station's state as JSON-ready data."""
    return {
        "id": station.id,
        "connected": station.connected,
        "booted": station.booted,
        "queued_messages": station.outbox.queued,
        "connectors": [
            {
                "evse_id": c.evse_id,
                "status": c.status,
                "error_code": c.fault,
                "power_type": c.power_type,
                "max_power_kw": c.max_power_kw,
                "meter_wh": round(c.meter_wh),
            }
            for c in station.connectors.values()
        ],
        "sessions": [
            {
                "evse_id": s.evse_id,
                "transaction_id": s.transaction_id,
                "id_tag": s.id_tag,
                "phase": s.phase,
                "soc": round(s.charge.vehicle.soc, 1),
                "energy_wh": round(s.energy_wh),
                "power_kw": round(s.charge.power_kw, 2),
            }
            for s in station.sessions.values()
        ],
        "reservations": [
            {"id": r.id, "evse_id": r.evse_id, "id_tag": r.id_tag, "expires": rfc3339(r.expires_at)}
            for r in station.reservations.values()
        ],
    }


class ControlServer:
    def __init__(self, stations: Sequence[SimulatedStation]) -> None:
        self.stations = {station.id: station for station in stations}

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            status, body = await self._respond(reader)
        except HttpError as error:
            status, body = error.status, {"detail": error.detail}
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            writer.close()
            return
        data = json.dumps(body).encode()
        head = (
            f"HTTP/1.1 {status.value} {status.phrase}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(data)}\r\n"
            "Connection: close\r\n\r\n"
        )
        with contextlib.suppress(ConnectionError):
            writer.write(head.encode() + data)
            await writer.drain()
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    async def _respond(self, reader: asyncio.StreamReader) -> tuple[HTTPStatus, Any]:
        head = await reader.readuntil(b"\r\n\r\n")
        if len(head) > MAX_HEAD:
            raise HttpError(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "request head too large")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise HttpError(HTTPStatus.BAD_REQUEST, "malformed request line")
        method, target = parts[0], parts[1]
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip()) if value.strip().isdigit() else 0
        if length:
            await reader.readexactly(min(length, MAX_BODY))  # bodies are not used
        url = urlsplit(target)
        query = {key: values[-1] for key, values in parse_qs(url.query).items()}
        path = [unquote(part) for part in url.path.strip("/").split("/") if part]
        return await self._route(method, path, query)

    async def _route(
        self, method: str, path: list[str], query: dict[str, str]
    ) -> tuple[HTTPStatus, Any]:
        if not path or path[0] != "stations" or len(path) > 3:
            raise HttpError(HTTPStatus.NOT_FOUND, "not found")
        if len(path) == 1:
            _expect(method, "GET")
            return HTTPStatus.OK, [snapshot(s) for s in self.stations.values()]
        station = self.stations.get(path[1])
        if station is None:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no station {path[1]!r}")
        if len(path) == 2:
            _expect(method, "GET")
            return HTTPStatus.OK, snapshot(station)
        _expect(method, "POST")
        action = path[2]
        if action == "offline":
            await station.go_offline(_number(query, "seconds", 30.0))
            return HTTPStatus.OK, snapshot(station)
        evse_id = int(_number(query, "evse", 1.0))
        if evse_id not in station.connectors:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no EVSE {evse_id}")
        if action == "fault":
            station.fault(evse_id, query.get("error_code", "GroundFailure"))
        elif action == "recover":
            station.recover(evse_id)
        elif action == "start":
            id_tag = query.get("id_tag") or station.rng.choice(station.id_tags)
            started = await station.start_session(evse_id, id_tag)
            return HTTPStatus.OK, {"started": started, "station": snapshot(station)}
        elif action == "stop":
            stopped = await station.stop_session(evse_id)
            return HTTPStatus.OK, {"stopped": stopped, "station": snapshot(station)}
        else:
            raise HttpError(HTTPStatus.NOT_FOUND, f"no action {action!r}")
        return HTTPStatus.OK, snapshot(station)


def _expect(method: str, allowed: str) -> None:
    if method != allowed:
        raise HttpError(HTTPStatus.METHOD_NOT_ALLOWED, f"use {allowed}")


def _number(query: dict[str, str], name: str, default: float) -> float:
    if name not in query:
        return default
    try:
        return float(query[name])
    except ValueError:
        raise HttpError(HTTPStatus.BAD_REQUEST, f"{name} must be a number") from None


async def start_control_server(
    stations: Sequence[SimulatedStation], port: int, host: str = "127.0.0.1"
) -> asyncio.Server:
    """Start serving; the caller closes the returned server. Port 0 picks a free port."""
    control = ControlServer(stations)
    return await asyncio.start_server(control.handle, host, port, limit=MAX_HEAD)
