"""The StationLink port across nodes: a command reaches a station's socket wherever it lives.

Each node records the stations connected to it under `station:{id}` → node id, with a lease it
renews while the socket stays up (and deletes on disconnect, if the key is still its own). A
command for a station held here goes to the local gateway; for one held elsewhere it travels
as a request on the holding node's channel, and that node's answer (or error) comes back on the
asking node's channel. No node holding it: Unavailable, as for an offline station. No answer in
the time given: TimedOut.
"""

from __future__ import annotations

import asyncio
import secrets
import typing
from typing import Any

import structlog
from redis.exceptions import RedisError

from voltbook.core.errors import (
    Conflict,
    DomainError,
    InvalidInput,
    NotFound,
    TimedOut,
    Unavailable,
    UpstreamFailed,
)
from voltbook.live.codec import DataclassCodec
from voltbook.live.redis_node import RedisNode, Repeating
from voltbook.stations.commands import Command, CommandAnswer
from voltbook.stations.ports import StationLink

_log = structlog.get_logger("voltbook.cluster")
_ERRORS: dict[str, type[DomainError]] = {
    cls.__name__: cls
    for cls in (Unavailable, TimedOut, UpstreamFailed, InvalidInput, NotFound, Conflict)
}
# Extra time the asking node waits past the command's own timeout, for the holder's answer
# (which may be its own TimedOut) to come back.
_ANSWER_MARGIN_S = 2.0
# Only our own renewal: another node that took the station over keeps it.
_RENEW = """
local holder = redis.call('GET', KEYS[1])
if holder == false or holder == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
  return 1
end
return 0
"""
_RELEASE = """
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
"""


class ClusterStationLink:
    """StationLink over the local gateway and the other nodes' gateways."""

    def __init__(self, local: StationLink, node: RedisNode, *, lease_s: int = 60) -> None:
        self._local = local
        self._node = node
        self._lease = lease_s
        self._codec = DataclassCodec(typing.get_args(Command))
        self._here: set[str] = set()
        self._waiting: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._working: set[asyncio.Task[None]] = set()
        self._renewer = Repeating(self._lease / 3, self.renew, "station-leases")
        node.follow(self._inbox(node.node_id), self._received)

    def _inbox(self, node_id: str) -> str:
        return self._node.key("node", node_id)

    def _where(self, station_id: str) -> str:
        return self._node.key("station", station_id)

    # --- StationLink --------------------------------------------------------------------

    async def send(self, station_id: str, command: Command, timeout_s: float) -> CommandAnswer:
        if station_id in self._here:
            return await self._local.send(station_id, command, timeout_s)
        try:
            holder = await self._node.redis.get(self._where(station_id))
        except (RedisError, OSError) as error:
            _log.warning("station location unreadable", error=type(error).__name__)
            holder = None
        if isinstance(holder, bytes):
            holder = holder.decode()
        if holder is None or holder == self._node.node_id:
            raise Unavailable(f"station {station_id} is not connected")
        return await self._ask(holder, station_id, command, timeout_s)

    async def _ask(
        self, holder: str, station_id: str, command: Command, timeout_s: float
    ) -> CommandAnswer:
        request_id = secrets.token_hex(8)
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting[request_id] = answer
        try:
            listeners = await self._node.publish(
                self._inbox(holder),
                {
                    "kind": "command",
                    "id": request_id,
                    "reply_to": self._node.node_id,
                    "station_id": station_id,
                    "timeout_s": timeout_s,
                    "command": self._codec.encode(command),
                },
            )
            if listeners == 0:  # the holder is gone (or Redis is): its lease will lapse
                raise Unavailable(f"station {station_id} is not connected")
            try:
                async with asyncio.timeout(timeout_s + _ANSWER_MARGIN_S):
                    reply = await answer
            except TimeoutError:
                raise TimedOut(f"station {station_id} did not answer in time") from None
        finally:
            self._waiting.pop(request_id, None)
        error = reply.get("error")
        if error is not None:
            raise _ERRORS.get(str(error), UpstreamFailed)(str(reply.get("detail", error)))
        return CommandAnswer(
            action=str(reply["action"]),
            status=reply.get("status"),
            response=dict(reply.get("response") or {}),
            reading=dict(reply.get("reading") or {}),
        )

    # --- where stations are -------------------------------------------------------------

    async def station_connected(self, station_id: str) -> None:
        """This node now holds the station's socket (a newer connection wins everywhere)."""
        self._here.add(station_id)
        try:
            await self._node.redis.set(self._where(station_id), self._node.node_id, ex=self._lease)
        except (RedisError, OSError) as error:
            _log.warning("station location not recorded", error=type(error).__name__)

    async def station_disconnected(self, station_id: str) -> None:
        self._here.discard(station_id)
        await self._release([station_id])

    async def renew(self) -> None:
        """Renew this node's leases on the stations it holds."""
        if not self._here:
            return
        try:
            async with self._node.redis.pipeline(transaction=False) as pipe:
                held = list(self._here)
                for station_id in held:
                    pipe.eval(_RENEW, 1, self._where(station_id), self._node.node_id, self._lease)
                renewed = await pipe.execute()
        except (RedisError, OSError) as error:
            _log.warning("station leases not renewed", error=type(error).__name__)
            return
        for station_id, ours in zip(held, renewed, strict=True):
            if not ours:  # the station reconnected to another node; this socket is stale
                self._here.discard(station_id)

    async def start(self) -> None:
        self._renewer.start()

    async def close(self) -> None:
        await self._renewer.stop()
        for task in list(self._working):
            task.cancel()
        await self._release(list(self._here))
        self._here.clear()

    async def _release(self, station_ids: list[str]) -> None:
        if not station_ids:
            return
        try:
            async with self._node.redis.pipeline(transaction=False) as pipe:
                for station_id in station_ids:
                    pipe.eval(_RELEASE, 1, self._where(station_id), self._node.node_id)
                await pipe.execute()
        except (RedisError, OSError) as error:  # the lease lapses on its own
            _log.warning("station location not released", error=type(error).__name__)

    # --- messages from other nodes ------------------------------------------------------

    async def _received(self, message: dict[str, Any]) -> None:
        if message.get("kind") == "answer":
            waiting = self._waiting.get(str(message.get("id")))
            if waiting is not None and not waiting.done():
                waiting.set_result(message)
        elif message.get("kind") == "command":
            # Served beside the listener: a station may take its time to answer.
            task = asyncio.create_task(self._serve(message))
            self._working.add(task)
            task.add_done_callback(self._working.discard)

    async def _serve(self, request: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"kind": "answer", "id": request.get("id")}
        try:
            command = self._codec.decode(request["command"])
            answer = await self._local.send(
                str(request["station_id"]),
                typing.cast(Command, command),
                float(request["timeout_s"]),
            )
        except DomainError as error:
            reply |= {"error": type(error).__name__, "detail": error.detail}
        except (LookupError, ValueError, TypeError) as error:
            _log.warning("unreadable command from another node", error=type(error).__name__)
            reply |= {"error": "InvalidInput", "detail": "the command could not be read"}
        else:
            reply |= {
                "action": answer.action,
                "status": answer.status,
                "response": answer.response,
                "reading": answer.reading,
            }
        await self._node.publish(self._inbox(str(request.get("reply_to"))), reply)
