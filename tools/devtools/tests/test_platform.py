"""The platform runner on the real PostgreSQL and RabbitMQ, with stand-in services (tests/fakes)."""
from __future__ import annotations

import os
import signal
import socket
import time

import asyncpg
import grpc
import httpx
import pytest
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from taquilla_devtools.databases import ADMIN_DSN
from taquilla_devtools.platform import Platform, PlatformError, grpc_health_status, log_tail, run_platform
from taquilla_devtools.services import PlatformLayout


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as f:  # a zombie is not running
        return f.read().split(") ")[1][0] != "Z"


async def existing_databases(layout, services) -> set[str]:
    conn = await asyncpg.connect(ADMIN_DSN.format(host=layout.db_host, port=layout.db_port))
    try:
        rows = await conn.fetch("SELECT datname FROM pg_database WHERE datname = ANY($1::text[])",
                                [layout.database(s) for s in services])
        return {r["datname"] for r in rows}
    finally:
        await conn.close()


class NoSuchModulePlatform(Platform):
    def command(self, service: str, kind: str) -> list[str]:
        return [self.python, "-m", f"taquilla_no_such_{service}_module", kind]


async def test_a_service_module_that_does_not_exist_is_named_with_its_log(fake_layout, tmp_path):
    services = ("gateway", "catalog")
    layout = fake_layout(services)
    with pytest.raises(PlatformError) as failure:
        async with run_platform(layout, log_dir=tmp_path / "logs", platform_class=NoSuchModulePlatform,
                                services=services):
            pytest.fail("the platform started without its services")
    message = str(failure.value)
    assert "gateway: migrate failed with exit code 1" in message
    assert "catalog: migrate failed with exit code 1" in message
    assert "No module named taquilla_no_such_catalog_module" in message
    assert str(tmp_path / "logs" / "catalog.migrate.log") in message


async def test_a_service_that_dies_at_start_is_named_and_the_others_are_stopped(fake_layout, FakePlatform, tmp_path):
    services = ("gateway", "catalog", "orders")
    layout = fake_layout(services, FAKE_CATALOG="die")
    platform = FakePlatform(layout, log_dir=tmp_path / "logs", services=services, ready_timeout=30)
    with pytest.raises(PlatformError) as failure:
        await platform.start()
    message = str(failure.value)
    assert message.startswith("catalog: exited during start-up with exit code 3")
    assert "boom: catalog cannot start" in message  # the log tail
    assert str(platform.log_path("catalog")) in message
    assert platform.exited().keys() == set(services)  # nothing left running
    assert "got SIGTERM, stopping" in platform.log_path("gateway").read_text()


async def test_a_failing_migration_stops_the_start_and_shows_its_log(fake_layout, FakePlatform, tmp_path):
    services = ("gateway", "payments")
    layout = fake_layout(services, FAKE_PAYMENTS="migrate-fails")
    platform = FakePlatform(layout, log_dir=tmp_path / "logs", services=services)
    with pytest.raises(PlatformError) as failure:
        await platform.start()
    message = str(failure.value)
    assert "payments: migrate failed with exit code 2" in message
    assert "relation payments_things already exists" in message
    assert "gateway" not in message  # its migration went through
    assert platform.exited() == {}  # no serve process was started


async def test_the_platform_starts_every_service_with_its_environment_and_stops_them(fake_layout, FakePlatform, tmp_path):
    services = ("gateway", "catalog", "inventory")
    layout = fake_layout(services, FAKE_GRPC_DELAY="1.5")
    async with run_platform(layout, fresh=True, log_dir=tmp_path / "logs", platform_class=FakePlatform,
                            services=services) as platform:
        # ready means gRPC SERVING too, which the fake inventory only says 1.5 s after it answers HTTP
        assert await grpc_health_status(platform.grpc_target) == "SERVING"
        assert await existing_databases(layout, services) == {layout.database(s) for s in services}
        pids = {s: platform.pid(s) for s in services}
        async with httpx.AsyncClient(trust_env=False) as client:
            for service in services:
                env = (await client.get(platform.url(service) + "/env")).json()
                assert {k: v for k, v in layout.env(service).items() if k.startswith(service.upper())} \
                    .items() <= env.items()
        assert platform.gateway_url == f"http://127.0.0.1:{layout.http_base_port}"
        assert (tmp_path / "state" / "catalog.migrated").read_text() == layout.env("catalog")["CATALOG_DB__MIGRATION_URL"]
    assert not any(alive(pid) for pid in pids.values())
    for service in services:
        assert "got SIGTERM, stopping" in platform.log_path(service).read_text()


async def test_kill_and_restart_a_service(fake_layout, FakePlatform, tmp_path):
    services = ("gateway", "orders")
    layout = fake_layout(services)
    async with run_platform(layout, log_dir=tmp_path / "logs", platform_class=FakePlatform,
                            services=services) as platform:
        first = platform.pid("orders")
        assert await platform.kill("orders") == -signal.SIGKILL
        assert not alive(first) and not platform.is_running("orders")
        assert platform.exited() == {"orders": -signal.SIGKILL}
        async with httpx.AsyncClient(trust_env=False) as client:
            with pytest.raises(httpx.ConnectError):
                await client.get(platform.url("orders") + "/healthz/ready")
            await platform.restart("orders", timeout=20)
            assert platform.pid("orders") not in (None, first)
            assert (await client.get(platform.url("orders") + "/healthz/ready")).status_code == 200
        assert platform.log_path("orders").read_text().count("taquilla: ") == 2  # one log across the restart


async def test_a_service_that_ignores_sigterm_is_killed_after_the_grace_period(fake_layout, FakePlatform, tmp_path):
    services = ("gateway", "tickets")
    layout = fake_layout(services, FAKE_TICKETS="stubborn")
    platform = FakePlatform(layout, log_dir=tmp_path / "logs", services=services, stop_grace=1.0)
    await platform.start()
    pid = platform.pid("tickets")
    started = time.monotonic()
    await platform.stop()
    assert 1.0 <= time.monotonic() - started < 10
    assert platform.exited()["tickets"] == -signal.SIGKILL
    assert not alive(pid)
    assert "got SIGTERM, ignoring it" in platform.log_path("tickets").read_text()


async def test_a_service_that_never_gets_ready_is_reported_with_its_last_answer(fake_layout, FakePlatform, tmp_path):
    services = ("gateway", "fiscal")
    layout = fake_layout(services, FAKE_FISCAL="unready")
    platform = FakePlatform(layout, log_dir=tmp_path / "logs", services=services, ready_timeout=2)
    with pytest.raises(PlatformError) as failure:
        await platform.start()
    message = str(failure.value)
    assert message.startswith("not ready within 2s: fiscal\n")
    assert "HTTP 503" in message and "failing: fake" in message
    assert "fake fiscal listening" in message
    assert not platform.is_running("gateway") and not platform.is_running("fiscal")


async def test_a_busy_port_is_refused_before_anything_starts(fake_layout, FakePlatform, tmp_path):
    services = ("gateway", "catalog")
    layout = fake_layout(services)
    with socket_listening(layout.http_port("catalog")):
        platform = FakePlatform(layout, log_dir=tmp_path / "logs", services=services)
        with pytest.raises(PlatformError, match=rf"ports already in use on 127.0.0.1: {layout.http_port('catalog')} "
                                                r"\(catalog\)"):
            await platform.start()
    assert not (tmp_path / "state" / "gateway.migrated").exists()


class socket_listening:
    def __init__(self, port: int):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", port))
        self.sock.listen()

    def __enter__(self):
        return self.sock

    def __exit__(self, *exc):
        self.sock.close()


async def test_grpc_health_status_reads_the_standard_health_service(free_port):
    port = free_port()
    assert await grpc_health_status(f"127.0.0.1:{port}", timeout=1) == "UNAVAILABLE"
    server = grpc.aio.server()
    servicer = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
    server.add_insecure_port(f"127.0.0.1:{port}")
    await server.start()
    try:
        await servicer.set("", health_pb2.HealthCheckResponse.NOT_SERVING)
        assert await grpc_health_status(f"127.0.0.1:{port}") == "NOT_SERVING"
        await servicer.set("", health_pb2.HealthCheckResponse.SERVING)
        assert await grpc_health_status(f"127.0.0.1:{port}") == "SERVING"
    finally:
        await server.stop(0)


def test_log_tail_keeps_the_last_lines(tmp_path):
    log = tmp_path / "x.log"
    log.write_text("".join(f"line {i}\n" for i in range(1000)))
    assert log_tail(log, 3) == "line 997\nline 998\nline 999"
    assert log_tail(tmp_path / "missing.log") == "(no log file)"


def test_unknown_services_are_refused():
    with pytest.raises(ValueError, match="unknown services: billing"):
        Platform(PlatformLayout(), services=("gateway", "billing"))

