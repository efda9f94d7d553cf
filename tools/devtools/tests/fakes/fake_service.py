"""A stand-in for `python -m <svc>_service migrate|serve`, driven by environment variables.

    python fake_service.py <service> migrate|serve

FAKE_<SVC> picks the behaviour: ok (default), die (exits 3 at start), unready (readiness answers 503),
stubborn (ignores SIGTERM), migrate-fails. `migrate` leaves a marker in FAKE_STATE_DIR that `serve`
requires. Inventory also serves the gRPC health check, SERVING after FAKE_GRPC_DELAY seconds.
"""
import asyncio
import json
import os
import signal
import sys
import time
from pathlib import Path


def main() -> int:
    service, kind = sys.argv[1], sys.argv[2]
    prefix = service.upper() + "_"
    behaviour = os.environ.get(f"FAKE_{service.upper()}", "ok")
    marker = Path(os.environ["FAKE_STATE_DIR"]) / f"{service}.migrated"
    print(f"fake {service} {kind}: behaviour {behaviour}", flush=True)
    if kind == "migrate":
        if behaviour == "migrate-fails":
            print(f"alembic: relation {service}_things already exists", flush=True)
            return 2
        marker.write_text(os.environ[prefix + "DB__MIGRATION_URL"])
        return 0
    if not marker.exists():
        print("serve before migrate", flush=True)
        return 4
    if behaviour == "die":
        time.sleep(0.5)  # dies after some start-up work, as a real service would, not before the others run
        print(f"boom: {service} cannot start", flush=True)
        return 3
    if behaviour == "stubborn":
        signal.signal(signal.SIGTERM, lambda *_: print("got SIGTERM, ignoring it", flush=True))
    else:
        def on_term(*_):
            print("got SIGTERM, stopping", flush=True)
            sys.exit(0)
        signal.signal(signal.SIGTERM, on_term)
    asyncio.run(serve(service, prefix, behaviour))
    return 0


async def serve(service: str, prefix: str, behaviour: str) -> None:
    env = {k: v for k, v in os.environ.items() if k.startswith(prefix) or k.startswith("GATEWAY_")}

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        request = await reader.readuntil(b"\r\n\r\n")
        path = request.split(b" ")[1].decode()
        if path == "/healthz/ready":
            status, body = (503, {"status": "unavailable", "checks": {"database": "failing: fake"}}) \
                if behaviour == "unready" else (200, {"status": "ok"})
        elif path == "/env":
            status, body = 200, env
        else:
            status, body = 404, {"status": 404}
        data = json.dumps(body).encode()
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
                     f"Connection: close\r\n\r\n".encode() + data)
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", int(os.environ[prefix + "HTTP__PORT"]))
    print(f"fake {service} listening", flush=True)
    if service == "inventory":
        await serve_grpc_health(int(os.environ["INVENTORY_GRPC__PORT"]),
                                float(os.environ.get("FAKE_GRPC_DELAY", "0")))
    async with server:
        await server.serve_forever()


async def serve_grpc_health(port: int, delay: float) -> None:
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    await servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)

    async def serving_later() -> None:
        await asyncio.sleep(delay)
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        print("gRPC health: SERVING", flush=True)

    globals()["_keep"] = (server, asyncio.get_running_loop().create_task(serving_later()))  # keep them alive


if __name__ == "__main__":
    sys.exit(main())
