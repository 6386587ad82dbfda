"""A fake CSMS for the simulator tests: a real WebSocket server that checks the subprotocol
and Basic auth, answers the station's CALLs, sends it commands, records every frame and
validates each one against the official OCPP JSON schemas shipped in the `ocpp` package.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from importlib import resources
from typing import Any
from urllib.parse import unquote

import fastjsonschema
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from voltbook.sim import ConnectorSpec, SimOptions, SimulatedStation, StationSpec

SCHEMA_ROOT = resources.files("ocpp")  # the official JSON schemas ship in the package
SUBPROTOCOL = {"1.6": "ocpp1.6", "2.0.1": "ocpp2.0.1"}
# RFC 3339: the offset is mandatory (fastjsonschema's own date-time check is looser).
RFC3339 = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"
Json = dict[str, Any]


class Schemas:
    """The official request/response schemas of one OCPP version, compiled on first use."""

    def __init__(self, version: str) -> None:
        self.version = version
        self.folder = SCHEMA_ROOT / ("v16" if version == "1.6" else "v201") / "schemas"
        self._compiled: dict[str, Callable[[Any], Any]] = {}

    def _validator(self, name: str) -> Callable[[Any], Any]:
        if name not in self._compiled:
            schema = json.loads((self.folder / f"{name}.json").read_text(encoding="utf-8"))
            self._compiled[name] = fastjsonschema.compile(
                schema, formats={"date-time": RFC3339}, use_default=False
            )
        return self._compiled[name]

    def request(self, action: str, payload: Json) -> None:
        self._validator(action if self.version == "1.6" else f"{action}Request")(payload)

    def response(self, action: str, payload: Json) -> None:
        self._validator(f"{action}Response")(payload)


@dataclass
class Recorded:
    """A CALL the station sent (action, payload) with the connection number it came on."""

    station_id: str
    action: str
    payload: Json
    connection: int
    message_id: str
    answer: Json | None = None


class CsmsCallError(Exception):
    def __init__(self, code: str, description: str) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code


@dataclass
class FakeCsms:
    version: str
    passwords: dict[str, str] = field(default_factory=dict)
    boot_interval: int = 60
    boot_statuses: list[str] = field(default_factory=list)  # answered first, then Accepted
    rejected_tags: set[str] = field(default_factory=set)
    calls: list[Recorded] = field(default_factory=list)
    answers: list[tuple[str, Json]] = field(default_factory=list)  # station CALLRESULTs
    raw_replies: list[list[Any]] = field(default_factory=list)  # replies to send_raw
    problems: list[str] = field(default_factory=list)  # schema violations and surprises
    connection_count: dict[str, int] = field(default_factory=dict)
    refused: list[int] = field(default_factory=list)  # HTTP statuses given at the upgrade

    def __post_init__(self) -> None:
        self.schemas = Schemas(self.version)
        self.subprotocol = SUBPROTOCOL[self.version]
        self.url = ""
        self._server: Server | None = None
        self._connections: dict[str, ServerConnection] = {}
        self._pending: dict[str, tuple[str, asyncio.Future[Any]]] = {}
        self._changed = asyncio.Condition()
        self._transaction_ids = itertools.count(1000)

    async def start(self) -> None:
        self._server = await serve(
            self._handle,
            "127.0.0.1",
            0,
            subprotocols=[Subprotocol(self.subprotocol)],
            process_request=self._check_request,
            ping_interval=None,
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    # -- the upgrade ------------------------------------------------------------------------

    def _check_request(self, connection: ServerConnection, request: Request) -> Response | None:
        match = re.fullmatch(r"/ocpp/([^/]+)", request.path)
        if match is None:
            return self._refuse(connection, HTTPStatus.NOT_FOUND)
        station_id = unquote(match[1])
        if station_id not in self.passwords:
            return self._refuse(connection, HTTPStatus.NOT_FOUND)
        secret = base64.b64encode(f"{station_id}:{self.passwords[station_id]}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {secret}":
            return self._refuse(connection, HTTPStatus.UNAUTHORIZED)
        offered = request.headers.get("Sec-WebSocket-Protocol", "")
        if offered.strip() != self.subprotocol:
            self.problems.append(f"subprotocols offered: {offered!r}")
            return self._refuse(connection, HTTPStatus.BAD_REQUEST)
        return None

    def _refuse(self, connection: ServerConnection, status: HTTPStatus) -> Response:
        self.refused.append(status.value)
        return connection.respond(status, f"{status.phrase}\n")

    # -- frames -----------------------------------------------------------------------------

    async def _handle(self, websocket: ServerConnection) -> None:
        assert websocket.request is not None
        station_id = unquote(websocket.request.path.rsplit("/", 1)[1])
        if websocket.subprotocol != self.subprotocol:
            self.problems.append(f"negotiated {websocket.subprotocol!r}")
        number = self.connection_count.get(station_id, 0) + 1
        self.connection_count[station_id] = number
        self._connections[station_id] = websocket
        await self._notify()
        try:
            async for message in websocket:
                await self._receive(station_id, number, websocket, str(message))
        except ConnectionClosed:
            pass  # a station that goes away abruptly is fine
        finally:
            if self._connections.get(station_id) is websocket:
                del self._connections[station_id]
            await self._notify()

    async def _receive(
        self, station_id: str, number: int, websocket: ServerConnection, message: str
    ) -> None:
        frame = json.loads(message)
        kind, message_id = frame[0], frame[1]
        if kind == 2:
            action, payload = frame[2], frame[3]
            self._validate("request", action, payload)
            answer = self._answer(action, payload)
            self.calls.append(Recorded(station_id, action, payload, number, message_id, answer))
            if answer is None:
                await websocket.send(json.dumps([4, message_id, "NotImplemented", action, {}]))
            else:
                self._validate("response", action, answer)
                await websocket.send(json.dumps([3, message_id, answer]))
        elif message_id in self._pending:
            action, future = self._pending.pop(message_id)
            if kind == 3:
                self._validate("response", action, frame[2])
                self.answers.append((action, frame[2]))
                future.set_result(frame[2])
            else:
                future.set_exception(CsmsCallError(frame[2], frame[3]))
        else:
            self.raw_replies.append(frame)
        await self._notify()

    def _validate(self, what: str, action: str, payload: Json) -> None:
        check = self.schemas.request if what == "request" else self.schemas.response
        try:
            check(action, payload)
        except (fastjsonschema.JsonSchemaException, OSError) as error:
            self.problems.append(f"{action} {what} {payload}: {error}")

    def _answer(self, action: str, payload: Json) -> Json | None:
        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        if action == "BootNotification":
            status = self.boot_statuses.pop(0) if self.boot_statuses else "Accepted"
            interval = self.boot_interval if status == "Accepted" else 1
            return {"status": status, "currentTime": now, "interval": interval}
        if action == "Heartbeat":
            return {"currentTime": now}
        if action == "Authorize":
            token = payload["idTag"] if self.version == "1.6" else payload["idToken"]["idToken"]
            status = "Invalid" if token in self.rejected_tags else "Accepted"
            return {"idTagInfo" if self.version == "1.6" else "idTokenInfo": {"status": status}}
        if action == "StartTransaction":
            return {
                "transactionId": next(self._transaction_ids),
                "idTagInfo": {"status": "Accepted"},
            }
        if action == "StopTransaction":
            return {"idTagInfo": {"status": "Accepted"}}
        if action in {
            "StatusNotification",
            "MeterValues",
            "TransactionEvent",
            "ReservationStatusUpdate",
        }:
            return {}
        self.problems.append(f"unexpected CALL {action}")
        return None

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- what tests use -----------------------------------------------------------------------

    async def call(self, station_id: str, action: str, payload: Json, timeout: float = 5.0) -> Json:
        """Send a command; returns the CALLRESULT payload, raises CsmsCallError on CALLERROR."""
        self.schemas.request(action, payload)  # the test's own command must be valid too
        message_id = str(uuid.uuid4())
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[message_id] = (action, future)
        await self._connections[station_id].send(json.dumps([2, message_id, action, payload]))
        result: Json = await asyncio.wait_for(future, timeout)
        return result

    async def send_raw(self, station_id: str, text: str, timeout: float = 5.0) -> list[Any]:
        """Send any text; returns the station's next reply that answers no command of ours."""
        before = len(self.raw_replies)
        await self._connections[station_id].send(text)
        await self.wait_for(lambda: len(self.raw_replies) > before, timeout)
        return self.raw_replies[before]

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        """Wait until `predicate()` holds: re-checked on every frame, and every 20 ms for
        what changes without a frame (station state, refused upgrades)."""
        async with asyncio.timeout(timeout), self._changed:
            while not predicate():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._changed.wait(), 0.02)

    def connected(self, station_id: str) -> bool:
        return station_id in self._connections

    def sent(self, action: str, station_id: str | None = None) -> list[Json]:
        return [
            r.payload
            for r in self.calls
            if r.action == action and (station_id is None or r.station_id == station_id)
        ]

    def status(self, evse_id: int) -> str | None:
        """The last connector status the station reported for the EVSE (either version)."""
        for payload in reversed(self.sent("StatusNotification")):
            if self.version == "1.6" and payload["connectorId"] == evse_id:
                return str(payload["status"])
            if self.version == "2.0.1" and payload["evseId"] == evse_id:
                return str(payload["connectorStatus"])
        return None

    async def wait_status(self, evse_id: int, status: str, timeout: float = 5.0) -> None:
        await self.wait_for(lambda: self.status(evse_id) == status, timeout)


@asynccontextmanager
async def fake_csms(version: str, **kwargs: Any) -> AsyncIterator[FakeCsms]:
    csms = FakeCsms(version, **kwargs)
    await csms.start()
    try:
        yield csms
    finally:
        await csms.close()


TWO_EVSES = (
    ConnectorSpec(1, 1, "IEC_62196_T1_COMBO", "DC", 50.0),
    ConnectorSpec(1, 2, "CHADEMO", "DC", 50.0),
    ConnectorSpec(2, 1, "IEC_62196_T1", "AC", 7.2),
)


def fast_options(version: str, **overrides: Any) -> SimOptions:
    """Options for tests: no random sessions, quick meters, fast physics and reconnects."""
    settings: dict[str, Any] = {
        "version": version,
        "session_rate": 0.0,
        "meter_interval": 0.05,
        "speed": 600.0,
        "seed": 7,
        "auto_stop": False,
        "call_timeout": 3.0,
        "reconnect_base": 0.05,
        "reconnect_cap": 0.2,
        "reboot_delay": 0.05,
    }
    settings.update(overrides)
    return SimOptions(**settings)


@asynccontextmanager
async def running_station(
    csms: FakeCsms,
    *,
    station_id: str = "SIM-1",
    connectors: tuple[ConnectorSpec, ...] = TWO_EVSES,
    **overrides: Any,
) -> AsyncIterator[SimulatedStation]:
    """A booted station (every connector reported) connected to the fake CSMS."""
    spec = StationSpec(station_id, f"pw-{uuid.uuid4().hex[:12]}", connectors)
    csms.passwords[station_id] = spec.password
    station = SimulatedStation(csms.url, spec, fast_options(csms.version, **overrides))
    task = asyncio.create_task(station.run())
    try:
        evses = {c.evse_id for c in connectors}
        await csms.wait_for(
            lambda: station.booted and all(csms.status(evse) is not None for evse in evses)
        )
        yield station
    finally:
        await station.stop()
        assert task.done()
        if not task.cancelled() and task.exception() is not None:
            raise AssertionError("station.run() failed") from task.exception()


def in_minutes(minutes: float) -> str:
    moment = datetime.now(UTC) + timedelta(minutes=minutes)
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def in_seconds(seconds: float) -> str:
    moment = datetime.now(UTC) + timedelta(seconds=seconds)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Commands:
    """The same command in each version's words: (action, payload)."""

    def __init__(self, version: str) -> None:
        self.v16 = version == "1.6"

    def reserve(
        self, reservation_id: int, evse_id: int | None, tag: str, expiry: str
    ) -> tuple[str, Json]:
        if self.v16:
            return "ReserveNow", {
                "connectorId": evse_id or 0,
                "expiryDate": expiry,
                "idTag": tag,
                "reservationId": reservation_id,
            }
        payload: Json = {
            "id": reservation_id,
            "expiryDateTime": expiry,
            "idToken": {"idToken": tag, "type": "ISO14443"},
        }
        if evse_id:
            payload["evseId"] = evse_id
        return "ReserveNow", payload

    def cancel(self, reservation_id: int) -> tuple[str, Json]:
        return "CancelReservation", {"reservationId": reservation_id}

    def remote_start(self, evse_id: int | None, tag: str, remote_id: int = 1) -> tuple[str, Json]:
        if self.v16:
            payload: Json = {"idTag": tag}
            if evse_id:
                payload["connectorId"] = evse_id
            return "RemoteStartTransaction", payload
        payload = {"idToken": {"idToken": tag, "type": "Central"}, "remoteStartId": remote_id}
        if evse_id:
            payload["evseId"] = evse_id
        return "RequestStartTransaction", payload

    def remote_stop(self, transaction_id: int | str) -> tuple[str, Json]:
        action = "RemoteStopTransaction" if self.v16 else "RequestStopTransaction"
        return action, {"transactionId": transaction_id}

    def availability(self, evse_id: int | None, operative: bool) -> tuple[str, Json]:
        kind = "Operative" if operative else "Inoperative"
        if self.v16:
            return "ChangeAvailability", {"connectorId": evse_id or 0, "type": kind}
        payload: Json = {"operationalStatus": kind}
        if evse_id:
            payload["evse"] = {"id": evse_id}
        return "ChangeAvailability", payload

    def reset(self) -> tuple[str, Json]:
        return "Reset", {"type": "Soft" if self.v16 else "Immediate"}

    def unlock(self, evse_id: int) -> tuple[str, Json]:
        if self.v16:
            return "UnlockConnector", {"connectorId": evse_id}
        return "UnlockConnector", {"evseId": evse_id, "connectorId": 1}

    def set_heartbeat(self, value: str) -> tuple[str, Json]:
        if self.v16:
            return "ChangeConfiguration", {"key": "HeartbeatInterval", "value": value}
        return "SetVariables", {
            "setVariableData": [
                {
                    "attributeValue": value,
                    "component": {"name": "OCPPCommCtrlr"},
                    "variable": {"name": "HeartbeatInterval"},
                }
            ]
        }

    def set_authorize_remote(self) -> tuple[str, Json]:
        if self.v16:
            return "ChangeConfiguration", {"key": "AuthorizeRemoteTxRequests", "value": "true"}
        return "SetVariables", {
            "setVariableData": [
                {
                    "attributeValue": "true",
                    "component": {"name": "AuthCtrlr"},
                    "variable": {"name": "AuthorizeRemoteStart"},
                }
            ]
        }

    def trigger(self, message: str, evse_id: int | None = None) -> tuple[str, Json]:
        payload: Json = {"requestedMessage": message}
        if evse_id is not None:
            payload["connectorId" if self.v16 else "evse"] = (
                evse_id if self.v16 else {"id": evse_id, "connectorId": 1}
            )
        return "TriggerMessage", payload


def status_of(answer: Json) -> str:
    """The status of a command answer (SetVariables: the first attribute's)."""
    if "setVariableResult" in answer:
        return str(answer["setVariableResult"][0]["attributeStatus"])
    return str(answer["status"])


@dataclass
class TxMessage:
    """A transaction message of either version: kind is start, update or end."""

    kind: str
    transaction_id: Any
    energy_wh: float | None
    soc: float | None
    record: Recorded


def _reading(meter_values: list[Json], measurand: str) -> float | None:
    for meter_value in meter_values:
        for sampled in meter_value["sampledValue"]:
            if sampled.get("measurand", "Energy.Active.Import.Register") == measurand:
                return float(sampled["value"])
    return None


def transactions(csms: FakeCsms) -> list[TxMessage]:
    """Every transaction message the station sent, in arrival order."""
    found: list[TxMessage] = []
    for record in csms.calls:
        payload = record.payload
        if record.action == "StartTransaction":
            assert record.answer is not None
            found.append(
                TxMessage(
                    "start", record.answer["transactionId"], payload["meterStart"], None, record
                )
            )
        elif record.action == "MeterValues" and "transactionId" in payload:
            values = payload["meterValue"]
            found.append(
                TxMessage(
                    "update",
                    payload["transactionId"],
                    _reading(values, "Energy.Active.Import.Register"),
                    _reading(values, "SoC"),
                    record,
                )
            )
        elif record.action == "StopTransaction":
            found.append(
                TxMessage(
                    "end",
                    payload["transactionId"],
                    payload["meterStop"],
                    _reading(payload.get("transactionData", []), "SoC"),
                    record,
                )
            )
        elif record.action == "TransactionEvent":
            values = payload.get("meterValue", [])
            found.append(
                TxMessage(
                    {"Started": "start", "Updated": "update", "Ended": "end"}[payload["eventType"]],
                    payload["transactionInfo"]["transactionId"],
                    _reading(values, "Energy.Active.Import.Register"),
                    _reading(values, "SoC"),
                    record,
                )
            )
    return found


def count(csms: FakeCsms, kind: str) -> int:
    return sum(1 for message in transactions(csms) if message.kind == kind)
