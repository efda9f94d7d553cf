"""The drills' TCP fault proxy: forwards both ways, holds bytes back by its delay, cuts and heals."""
from __future__ import annotations

import asyncio
import contextlib

import pytest
from taquilla_devtools.fault_proxy import FaultProxy


@contextlib.asynccontextmanager
async def echo_server():
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError):
            while data := await reader.read(1024):
                writer.write(data)
                await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        await server.wait_closed()


async def round_trip(proxy: FaultProxy, payload: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
    try:
        writer.write(payload)
        await writer.drain()
        return await asyncio.wait_for(reader.readexactly(len(payload)), 10)
    finally:
        writer.close()


async def test_bytes_go_through_in_order_and_the_delay_holds_them_back():
    async with echo_server() as port, FaultProxy("127.0.0.1", port) as proxy:
        payload = bytes(range(256)) * 512  # several chunks
        assert await round_trip(proxy, payload) == payload
        proxy.delay = 1.0
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"late")
        await writer.drain()
        with pytest.raises(TimeoutError):  # a slower machine only makes it later
            await asyncio.wait_for(reader.readexactly(4), 0.3)
        assert await asyncio.wait_for(reader.readexactly(4), 10) == b"late"
        writer.close()


async def test_a_cut_resets_open_and_new_connections_until_healed():
    async with echo_server() as port, FaultProxy("127.0.0.1", port) as proxy:
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.readexactly(4), 10) == b"ping"
        proxy.cut()
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await asyncio.wait_for(reader.readexactly(4), 10)
        with pytest.raises((ConnectionError, asyncio.IncompleteReadError)):
            await round_trip(proxy, b"refused")
        proxy.heal()
        assert await round_trip(proxy, b"again") == b"again"
        assert proxy.connections == 3
