"""Health probe of the Taquilla service images: `python /opt/taquilla/healthcheck.py [api|worker|grpc]`.

Slim images carry no curl or wget, so the probe is Python: the standard library for HTTP and the
worker, grpcio (already in the service's environment) for gRPC. Without an argument it probes the
kind of process the container runs, read from that process's command line, so the image's single
HEALTHCHECK serves api, worker and grpc containers alike. Exit 0 is healthy, 1 is not.

- api: GET /healthz/live on `<SVC>_HTTP__PORT` answers 200.
- grpc: the standard gRPC health service on `<SVC>_GRPC__PORT` answers SERVING.
- worker: the worker serves no port, so the probe checks that the process holds an established
  connection to the broker (`<SVC>_BROKER__URL`). It fails while the broker is unreachable, which
  is when a worker cannot do its job.
"""
from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

TIMEOUT_SECONDS = 3.0
TCP_ESTABLISHED = "01"


def service() -> str:
    name = os.environ.get("TAQUILLA_SERVICE", "").strip()
    if not name:
        raise SystemExit("healthcheck: TAQUILLA_SERVICE is not set (the image sets it at build time)")
    return name


def setting(name: str, default: str | None = None) -> str:
    key = f"{service().upper()}_{name}"
    value = os.environ.get(key, default)
    if value is None:
        raise SystemExit(f"healthcheck: {key} is not set")
    return value


def running_kind() -> str:
    """The kind (api, worker, grpc) of the `python -m <svc>_service <kind>` process in this container."""
    module = f"{service()}_service"
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        args = [a.decode(errors="replace") for a in argv if a]
        for i, arg in enumerate(args[:-2]):
            if arg == "-m" and args[i + 1] == module:
                return args[i + 2]
    return "api"


def probe_api() -> None:
    url = f"http://127.0.0.1:{setting('HTTP__PORT')}/healthz/live"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310 (fixed URL)
            if response.status != 200:
                raise SystemExit(f"healthcheck: {url} answered {response.status}")
    except (urllib.error.URLError, OSError) as exc:
        raise SystemExit(f"healthcheck: {url} failed: {exc}") from None


def probe_grpc() -> None:
    import grpc
    from grpc_health.v1 import health_pb2, health_pb2_grpc

    target = f"127.0.0.1:{setting('GRPC__PORT', '50051')}"
    with grpc.insecure_channel(target) as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as exc:
            raise SystemExit(f"healthcheck: gRPC health on {target} failed: {exc.code().name}") from None
    if reply.status != health_pb2.HealthCheckResponse.SERVING:
        raise SystemExit(f"healthcheck: gRPC health on {target} is {reply.status}")


def established_remote_ports() -> set[int]:
    """Remote ports of this network namespace's established TCP connections (IPv4 and IPv6)."""
    ports: set[int] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            if len(fields) > 3 and fields[3] == TCP_ESTABLISHED:
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def probe_worker() -> None:
    broker = urlsplit(setting("BROKER__URL", "amqp://guest:guest@127.0.0.1:5672/"))
    port = broker.port or (5671 if broker.scheme == "amqps" else 5672)
    if port not in established_remote_ports():
        raise SystemExit(f"healthcheck: no established connection to the broker (port {port})")


def probe_nothing() -> None:
    """`migrate` is a one-shot: its exit code is its health."""


PROBES = {"api": probe_api, "serve": probe_api, "grpc": probe_grpc, "worker": probe_worker,
          "migrate": probe_nothing}


def main(argv: list[str]) -> int:
    kind = argv[0] if argv else running_kind()
    probe = PROBES.get(kind)
    if probe is None:
        print(f"healthcheck: unknown kind {kind!r}; expected one of {', '.join(PROBES)}", file=sys.stderr)
        return 1
    probe()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
