"""A TCP proxy that a fault drill puts between two services to slow or cut the link.

    async with FaultProxy("127.0.0.1", inventory_grpc_port) as proxy:
        orders_env = {"ORDERS_INVENTORY__TARGET": proxy.address}
        proxy.delay = 2.0   # every byte arrives 2 s later, in order
        proxy.cut()         # open connections are reset, new ones closed at once
        proxy.heal()        # back to a plain forwarder
"""
from __future__ import annotations

import asyncio
import contextlib
import time

CHUNK = 64 * 1024


class FaultProxy:
    def __init__(self, target_host: str, target_port: int, *, listen_host: str = "127.0.0.1",
                 listen_port: int = 0):
        self.target = (target_host, target_port)
        self.listen = (listen_host, listen_port)
        self.delay = 0.0  # seconds added to every chunk, both ways
        self.connections = 0  # accepted so far (cut ones included)
        self._cut = False
        self._server: asyncio.AbstractServer | None = None
        self._links: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter]] = set()

    @property
    def port(self) -> int:
        assert self._server is not None, "the proxy is not started"
        return self._server.sockets[0].getsockname()[1]

    @property
    def address(self) -> str:
        return f"{self.listen[0]}:{self.port}"

    async def __aenter__(self) -> FaultProxy:
        self._server = await asyncio.start_server(self._accept, *self.listen)
        return self

    async def __aexit__(self, *exc_info) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Reset every open connection and every new one, until `heal`."""
        self._cut = True
        for client, upstream in list(self._links):
            _abort(client)
            _abort(upstream)
        self._links.clear()

    def heal(self) -> None:
        self._cut = False
        self.delay = 0.0

    async def _accept(self, client_reader: asyncio.StreamReader, client: asyncio.StreamWriter) -> None:
        self.connections += 1
        if self._cut:
            _abort(client)
            return
        try:
            upstream_reader, upstream = await asyncio.open_connection(*self.target)
        except OSError:
            _abort(client)
            return
        link = (client, upstream)
        self._links.add(link)
        try:
            await asyncio.gather(self._pipe(client_reader, upstream), self._pipe(upstream_reader, client))
        finally:
            self._links.discard(link)
            _abort(client)
            _abort(upstream)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Forward in order; each chunk leaves `delay` seconds after it arrived (latency, not throughput)."""
        chunks: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

        async def send() -> None:
            while True:
                due, data = await chunks.get()
                if not data:
                    return
                await asyncio.sleep(max(0.0, due - time.monotonic()))
                writer.write(data)
                await writer.drain()

        sender = asyncio.create_task(send())
        try:
            while not sender.done():
                data = await reader.read(CHUNK)
                chunks.put_nowait((time.monotonic() + self.delay, data))
                if not data:
                    break
            await sender
        except (ConnectionError, OSError):
            pass
        finally:
            sender.cancel()
            with contextlib.suppress(asyncio.CancelledError, ConnectionError, OSError):
                await sender
            _abort(writer)


def _abort(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort()
