"""Several gRPC processes of one pod may share the port (INVENTORY_GRPC_REUSE_PORT); by default a second one
cannot bind, so two services never answer on one port by mistake."""
import asyncio

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from taquilla_platform.grpc_server import serve_grpc

from .conftest import free_port


async def serving(port: int) -> bool:
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        answer = await health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=10,
                                                                  wait_for_ready=True)
    return answer.status == health_pb2.HealthCheckResponse.SERVING


async def test_two_servers_share_a_port_only_when_told_to():
    port, stop = free_port(), asyncio.Event()
    shared = [asyncio.create_task(serve_grpc([], [], "127.0.0.1", port, stop, reuse_port=True)) for _ in range(2)]
    assert await serving(port)
    assert not any(task.done() for task in shared)  # both bound the port and serve
    stop.set()
    await asyncio.gather(*shared)

    port, stop = free_port(), asyncio.Event()
    alone = asyncio.create_task(serve_grpc([], [], "127.0.0.1", port, stop))
    assert await serving(port)
    with pytest.raises(RuntimeError, match="could not bind"):
        await serve_grpc([], [], "127.0.0.1", port, asyncio.Event())
    stop.set()
    await alone
