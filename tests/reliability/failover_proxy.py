"""A small TCP proxy in front of several nodes, as a load balancer would be: a charger or an
app knows one address. Each connection goes to the first node that accepts it; a connection
whose node is gone is closed, so its client reconnects (and lands on a node still there)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager


class FailoverProxy:
    def __init__(self, upstreams: Sequence[tuple[str, int]]) -> None:
        self._upstreams = list(upstreams)
        self._tasks: set[asyncio.Task[None]] = set()
        self.port = 0
        self.routed: list[int] = []  # the upstream port each connection went to

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        upstream = await self._open_first()
        if upstream is None:
            writer.close()
            return
        up_reader, up_writer = upstream
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        # Either side ending (the node killed, or the client leaving) ends both.
        await asyncio.wait(pipes, return_when=asyncio.FIRST_COMPLETED)
        for pipe in pipes:
            pipe.cancel()
        for side in (writer, up_writer):
            side.close()

    async def _open_first(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        for host, port in self._upstreams:
            try:
                opened = await asyncio.open_connection(host, port)
            except OSError:
                continue
            self.routed.append(port)
            return opened
        return None

    def _track(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.create_task(self._handle(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)


async def _pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
    with contextlib.suppress(OSError):
        while data := await source.read(65_536):
            sink.write(data)
            await sink.drain()


@asynccontextmanager
async def failover_proxy(upstreams: Sequence[tuple[str, int]]) -> AsyncIterator[FailoverProxy]:
    proxy = FailoverProxy(upstreams)
    server = await asyncio.start_server(proxy._track, "127.0.0.1", 0)
    proxy.port = server.sockets[0].getsockname()[1]
    try:
        yield proxy
    finally:
        server.close()
        for task in list(proxy._tasks):
            task.cancel()
        await asyncio.gather(*proxy._tasks, return_exceptions=True)
        await server.wait_closed()
