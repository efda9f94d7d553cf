"""grpc.aio server with health checking, reflection outside production, tracing and a graceful stop."""
from __future__ import annotations

import asyncio
from collections.abc import Callable

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection
from opentelemetry.instrumentation.grpc import aio_client_interceptors, aio_server_interceptor


async def serve_grpc(
    register: list[tuple[Callable[[object, grpc.aio.Server], None], object]],
    service_names: list[str],
    host: str,
    port: int,
    stop: asyncio.Event,
    *,
    reflection_enabled: bool = True,
    grace_seconds: float = 5.0,
    reuse_port: bool = False,
) -> None:
    """`reuse_port`: several processes may serve the same port (SO_REUSEPORT); off, a second one fails to bind."""
    server = grpc.aio.server(interceptors=[aio_server_interceptor()],
                             options=[("grpc.so_reuseport", 1 if reuse_port else 0)])
    for add_to_server, servicer in register:
        add_to_server(servicer, server)
    health_servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    if reflection_enabled:
        reflection.enable_server_reflection([*service_names, health.SERVICE_NAME, reflection.SERVICE_NAME], server)
    try:
        bound = server.add_insecure_port(f"{host}:{port}")
    except RuntimeError:
        bound = 0
    if bound == 0:
        await server.stop(None)
        raise RuntimeError(f"gRPC server could not bind {host}:{port}")
    await server.start()
    for name in ["", *service_names]:
        await health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    await stop.wait()
    await health_servicer.enter_graceful_shutdown()
    await server.stop(grace_seconds)


def insecure_channel(target: str) -> grpc.aio.Channel:
    return grpc.aio.insecure_channel(target, interceptors=aio_client_interceptors())
