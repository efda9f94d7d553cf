"""deploy/docker/healthcheck.py, the images' health probe, run for real against local stand-ins:
an HTTP server, a TCP "broker" and a gRPC server with the standard health service."""
from __future__ import annotations

import socket
import subprocess
import sys
import threading
import uuid
from concurrent import futures
from contextlib import closing, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from deploy_facts import HEALTHCHECK


def probe(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(HEALTHCHECK), *args], env={"PATH": "/usr/bin:/bin", **env},
                          capture_output=True, text=True, timeout=30)


@contextmanager
def http_server(status: int):
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            code = status if self.path == "/healthz/live" else 404
            self.send_response(code)
            self.end_headers()
            self.wfile.write(b'{"status": "ok"}')

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def free_port() -> int:
    with closing(socket.socket()) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_api_is_healthy_when_liveness_answers_200():
    with http_server(200) as port:
        result = probe({"TAQUILLA_SERVICE": "fiscal", "FISCAL_HTTP__PORT": str(port)}, "api")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("status", [500, 503])
def test_api_is_unhealthy_when_liveness_fails(status):
    with http_server(status) as port:
        result = probe({"TAQUILLA_SERVICE": "fiscal", "FISCAL_HTTP__PORT": str(port)}, "api")
    assert result.returncode == 1
    assert "/healthz/live" in result.stderr


def test_api_is_unhealthy_when_nothing_listens():
    result = probe({"TAQUILLA_SERVICE": "orders", "ORDERS_HTTP__PORT": str(free_port())}, "api")
    assert result.returncode == 1


def test_worker_is_healthy_only_while_it_holds_a_broker_connection():
    with closing(socket.create_server(("127.0.0.1", 0))) as broker:
        port = broker.getsockname()[1]
        env = {"TAQUILLA_SERVICE": "orders", "ORDERS_BROKER__URL": f"amqp://u:p@127.0.0.1:{port}/"}
        assert probe(env, "worker").returncode == 1, "no connection yet"
        with closing(socket.create_connection(("127.0.0.1", port))), closing(broker.accept()[0]):
            result = probe(env, "worker")
            assert result.returncode == 0, result.stderr
    result = probe(env, "worker")
    assert result.returncode == 1
    assert "broker" in result.stderr


def test_grpc_follows_the_standard_health_service():
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        env = {"TAQUILLA_SERVICE": "inventory", "INVENTORY_GRPC__PORT": str(port)}
        servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        result = probe(env, "grpc")
        assert result.returncode == 0, result.stderr
        servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert probe(env, "grpc").returncode == 1
    finally:
        server.stop(None)
    assert probe(env, "grpc").returncode == 1


def test_without_argument_it_probes_the_kind_the_container_runs():
    """The image's one HEALTHCHECK has no argument: it must find `python -m <svc>_service <kind>`."""
    service = f"probe{uuid.uuid4().hex[:8]}"
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)",
                               "-m", f"{service}_service", "worker"])
    try:
        with closing(socket.create_server(("127.0.0.1", 0))) as broker:
            env = {"TAQUILLA_SERVICE": service,
                   f"{service.upper()}_BROKER__URL": f"amqp://127.0.0.1:{broker.getsockname()[1]}/"}
            result = probe(env)
            assert result.returncode == 1 and "broker" in result.stderr, result.stderr
            with closing(socket.create_connection(broker.getsockname())), closing(broker.accept()[0]):
                assert probe(env).returncode == 0
    finally:
        worker.kill()
        worker.wait()


def test_migrate_one_shots_are_not_probed_and_unknown_kinds_fail():
    assert probe({"TAQUILLA_SERVICE": "fiscal"}, "migrate").returncode == 0
    result = probe({"TAQUILLA_SERVICE": "fiscal"}, "nonsense")
    assert result.returncode == 1 and "unknown kind" in result.stderr
    assert probe({}, "api").returncode == 1
