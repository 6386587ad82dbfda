"""The OCPP endpoint: WebSocket handshake (subprotocol, Basic auth) and message loop.

Each station's messages are handled one at a time, in order, as OCPP-J requires of a
station anyway; our own calls to the station run beside that loop and are matched to the
station's answers by message id.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
from collections.abc import Callable

import structlog
from starlette.types import Receive, Scope, Send

from voltbook.charging.service import ChargingService
from voltbook.core.clock import Clock
from voltbook.core.errors import DomainError, InvalidInput, NotFound
from voltbook.core.outbox import QUEUE_LIMIT, SEND_BLOCK_S
from voltbook.ocpp import v16, v201
from voltbook.ocpp.connection import StationConnection
from voltbook.ocpp.context import Handler, StationContext
from voltbook.ocpp.link import LocalStationLink
from voltbook.ocpp.message_counts import CALL, ERROR, IN, INVALID, RESULT, MessageCounts
from voltbook.ocpp.protocol import (
    Call,
    ErrorKind,
    OcppError,
    Version,
    encode_error,
    encode_result,
    parse_frame,
)
from voltbook.ocpp.validation import SchemaValidator
from voltbook.stations.fleet import Admission, FleetService, check_station_id

_log = structlog.get_logger("voltbook.ocpp")
_HANDLERS: dict[Version, dict[str, Handler]] = {
    Version.V16: v16.HANDLERS,
    Version.V201: v201.HANDLERS,
}
REPLACED = 4000  # close code for a connection that a newer one for the same station replaced
# A connection's start-up (its connect, then its first calls: the boot and first statuses)
# takes one of a few slots shared by all stations (docs/adr/0034): a fleet reconnecting at
# once then cannot starve the handshakes of its own stragglers, nor stations already up.
STARTUP_CALLS = 8
STARTUP_SLOTS = 4


class OcppGateway:
    """ASGI WebSocket app for /ocpp/{station_id}: admits stations through the fleet, serves
    their messages, and keeps their connections in `link` (which carries our commands)."""

    def __init__(
        self,
        fleet: FleetService,
        charging: ChargingService,
        link: LocalStationLink,
        clock: Clock,
        validator: SchemaValidator,
        journal: Callable[[str, bool, str], None] | None = None,
        send_limit: int = QUEUE_LIMIT,
        send_block_s: float = SEND_BLOCK_S,
        counts: MessageCounts | None = None,
    ) -> None:
        self._fleet = fleet
        self._charging = charging
        self._link = link
        self._clock = clock
        self._validator = validator
        # Notes every frame, both ways (station, inbound, text); it must not block (the
        # message journal queues and writes in batches).
        self._journal = journal
        # Frames queued for one station, and how long one send may wait (docs/adr/0031).
        self._send_bounds = (send_limit, send_block_s)
        self._counts = counts  # every frame, both ways, journal or not
        self._startup = asyncio.Semaphore(STARTUP_SLOTS)

    # --- ASGI ---------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        admitted = await self._handshake(scope, receive, send)
        if admitted is not None:
            station_id, version = admitted
            # The headers were read for the handshake only; the scope (kept by the server as
            # long as the socket, days for a charger) need not keep them (about 1.2 KB).
            scope["headers"] = []
            connection = StationConnection(
                station_id, version, send, self._journal, *self._send_bounds, self._counts
            )
            await self._serve(connection, receive)

    async def _handshake(
        self, scope: Scope, receive: Receive, send: Send
    ) -> tuple[str, Version] | None:
        """Admit or refuse the connecting station: its id and version once accepted."""
        station_id = str(scope.get("path_params", {}).get("station_id", ""))
        if (await receive())["type"] != "websocket.connect":
            return None
        version = _pick_version(scope.get("subprotocols") or [])
        if version is None:
            await _deny(scope, send, 400, "offer the ocpp1.6 or ocpp2.0.1 subprotocol")
            return None
        try:
            check_station_id(station_id)
        except InvalidInput:
            await _deny(scope, send, 404, "no such station")
            return None
        password = _basic_password(scope, station_id)
        if password is None:
            await _deny(scope, send, 401, "HTTP Basic credentials for this station required")
            return None
        try:
            admission = await self._fleet.admit(station_id, password)
        except Exception:  # storage overloaded or down (a reconnect storm): come back later
            _log.warning("station admission failed", station=station_id, exc_info=True)
            await _deny(scope, send, 503, "try again later")
            return None
        if admission is Admission.UNKNOWN_STATION:
            await _deny(scope, send, 404, "no such station")
            return None
        if admission is Admission.WRONG_PASSWORD:
            _log.warning("station refused", station=station_id, reason="wrong password")
            await _deny(scope, send, 401, "wrong credentials")
            return None
        await send({"type": "websocket.accept", "subprotocol": version.value})
        return station_id, version

    async def _serve(self, connection: StationConnection, receive: Receive) -> None:
        station_id = connection.station_id
        previous = self._link.attach(connection)
        if previous is not None:
            await previous.close(REPLACED, "replaced by a newer connection")
        context = StationContext(
            station_id,
            connection.version,
            self._fleet,
            self._charging,
            self._clock,
            connection.reports,
        )
        version = connection.version.value.removeprefix("ocpp")
        try:
            async with self._startup:
                await self._fleet.connected(station_id, version)
            _log.info("station connected", station=station_id, version=connection.version.value)
            while True:
                message = await receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = message.get("bytes") or b""
                if self._journal is not None:
                    journal_text = text if isinstance(text, str) else text.decode(errors="replace")
                    self._journal(station_id, True, journal_text)
                await self._handle(connection, context, text)
                if connection.closed:  # replaced, or closed for not reading (ADR 0031)
                    break
        finally:
            connection.gone()
            if self._link.detach(connection):
                await self._fleet.disconnected(station_id)
                _log.info("station disconnected", station=station_id)

    async def _handle(
        self, connection: StationConnection, context: StationContext, raw: str | bytes
    ) -> None:
        version = connection.version
        try:
            frame = parse_frame(raw)
        except OcppError as error:
            if self._counts is not None:
                self._counts.count(IN, "", INVALID)
            await connection.reply(
                encode_error(error.unique_id or "-1", error.kind, version, error.description),
                "",
                ERROR,
            )
            return
        if not isinstance(frame, Call):
            connection.answer(frame)
            return
        if self._counts is not None:
            self._counts.count(IN, frame.action, CALL)
        kind = ERROR
        try:
            self._validator.validate_request(version, frame.action, frame.payload)
            connection.calls += 1  # answers to our calls (above) never wait for a slot
            starting = connection.calls <= STARTUP_CALLS
            async with self._startup if starting else contextlib.nullcontext():
                result = await _handler(version, frame.action)(context, frame.payload)
        except OcppError as error:
            reply = encode_error(frame.unique_id, error.kind, version, error.description)
        except (InvalidInput, NotFound) as error:
            reply = encode_error(frame.unique_id, ErrorKind.PROPERTY, version, error.detail)
        except DomainError as error:
            reply = encode_error(frame.unique_id, ErrorKind.GENERIC, version, error.detail)
        except Exception as error:  # a failing handler must not drop the station's connection
            _log.exception("handler failed", station=connection.station_id, action=frame.action)
            reply = encode_error(frame.unique_id, ErrorKind.INTERNAL, version, type(error).__name__)
        else:
            reply, kind = encode_result(frame.unique_id, result), RESULT
        await connection.reply(reply, frame.action, kind)


def _handler(version: Version, action: str) -> Handler:
    """The handler for a valid action; one the version defines but we do not handle is
    NotSupported (the schema check has already answered NotImplemented for unknown ones)."""
    handler = _HANDLERS[version].get(action)
    if handler is None:
        raise OcppError(ErrorKind.NOT_SUPPORTED, f"{action} is not handled here")
    return handler


def _pick_version(offered: list[str]) -> Version | None:
    """The first subprotocol in the station's order of preference that we speak."""
    for name in offered:
        try:
            return Version(name)
        except ValueError:
            continue
    return None


def _basic_password(scope: Scope, station_id: str) -> str | None:
    for name, value in scope.get("headers", []):
        if name != b"authorization":
            continue
        scheme, _, encoded = value.decode("latin-1").partition(" ")
        if scheme.lower() != "basic":
            return None
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, separator, password = decoded.partition(":")
        return password if separator and user == station_id else None
    return None


async def _deny(scope: Scope, send: Send, status: int, detail: str) -> None:
    """Refuse the upgrade with an HTTP status (where the server lets us) or a plain close."""
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    headers = [(b"content-type", b"text/plain; charset=utf-8")]
    if status == 401:
        headers.append((b"www-authenticate", b'Basic realm="voltbook OCPP"'))
    if status == 503:
        headers.append((b"retry-after", b"5"))
    await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
    await send({"type": "websocket.http.response.body", "body": detail.encode()})
