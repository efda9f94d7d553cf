"""The whole platform as local processes: databases, migrations, one `serve` process per service.

    async with run_platform(layout, fresh=True) as platform:
        httpx.get(platform.gateway_url + "/api/v1/events")
        await platform.kill("orders")       # fault drills
        await platform.restart("orders")

`python -m taquilla_devtools up` runs it for development; the end-to-end tests run it on their own ports,
databases and broker prefix. Every failure names the service and shows the end of its log.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from .databases import create_databases
from .services import CONSUMERS, SERVICES, PlatformLayout

log = logging.getLogger("taquilla.platform")

READY_TIMEOUT = 90.0
MIGRATE_TIMEOUT = 180.0
STOP_GRACE = 15.0
LOG_TAIL_LINES = 40
GRPC_SERVICES = frozenset({"inventory"})  # also answer the standard gRPC health check on layout.grpc_port


def find_repo_root() -> Path:
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "uv.lock").is_file() and (parent / "services").is_dir():
            return parent
    return Path.cwd()


REPO_ROOT = find_repo_root()


class PlatformError(RuntimeError):
    """A service could not be migrated, started or made ready; the message names it and shows its log."""


def log_tail(path: Path, lines: int = LOG_TAIL_LINES) -> str:
    """The last `lines` lines of a log file (reads only its end: logs of a long run can be large)."""
    try:
        with path.open("rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read()
    except FileNotFoundError:
        return "(no log file)"
    text = data.decode("utf-8", errors="replace").rstrip("\n")
    return "\n".join(text.splitlines()[-lines:]) if text else "(the log is empty)"


def _failure(service: str, what: str, path: Path) -> str:
    return f"{service}: {what}\n--- last {LOG_TAIL_LINES} lines of {path} ---\n{log_tail(path)}\n---"


def port_is_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn and grpc do: TIME_WAIT is fine
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


async def grpc_health_status(target: str, *, timeout: float = 2.0, service: str = "") -> str:
    """The standard gRPC health check of `target`: 'SERVING', 'NOT_SERVING', ... or the RPC error code."""
    async with grpc.aio.insecure_channel(target) as channel:
        try:
            response = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        except grpc.aio.AioRpcError as exc:
            return exc.code().name
    return health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)


async def reset_broker(layout: PlatformLayout, services: Iterable[str] = CONSUMERS) -> None:
    """Delete the queues and exchanges under the layout's broker prefix (messages of a previous run)."""
    import aio_pika
    from taquilla_messaging.topology import Topology

    connection = await aio_pika.connect_robust(layout.broker_url, timeout=10)
    try:
        channel = await connection.channel()
        await Topology(layout.broker_prefix).delete_all(channel, list(services))
    finally:
        await connection.close()


@dataclass
class ServiceProcess:
    service: str
    process: asyncio.subprocess.Process
    log_file: IO[bytes]

    @property
    def running(self) -> bool:
        return self.process.returncode is None


class Platform:
    """Runs each service as `python -m <svc>_service serve` with the environment of `layout`.

    Subclasses may override `command` or `environment` (tests point it at stand-in services).
    """

    def __init__(self, layout: PlatformLayout, *, log_dir: Path | None = None, fresh: bool = False,
                 services: Iterable[str] = SERVICES, ready_timeout: float = READY_TIMEOUT,
                 migrate_timeout: float = MIGRATE_TIMEOUT, stop_grace: float = STOP_GRACE,
                 python: str = sys.executable, root: Path = REPO_ROOT):
        self.layout = layout
        self.root = root
        self.log_dir = Path(log_dir) if log_dir is not None else root / "var" / "log" / layout.db_prefix
        self.fresh = fresh
        self.services = tuple(services)
        unknown = [s for s in self.services if s not in SERVICES]
        if unknown:
            raise ValueError(f"unknown services: {', '.join(unknown)}")
        self.ready_timeout = ready_timeout
        self.migrate_timeout = migrate_timeout
        self.stop_grace = stop_grace
        self.python = python
        self._processes: dict[str, ServiceProcess] = {}
        self._env_overrides: dict[str, dict[str, str]] = {}

    # -- what runs, and where ------------------------------------------------------------------

    def command(self, service: str, kind: str) -> list[str]:
        return [self.python, "-m", f"{service}_service", kind]

    def environment(self, service: str) -> dict[str, str]:
        return {**os.environ, "PYTHONUNBUFFERED": "1", **self.layout.env(service),
                **self._env_overrides.get(service, {})}

    def url(self, service: str) -> str:
        return self.layout.url(service)

    @property
    def gateway_url(self) -> str:
        return self.url("gateway")

    @property
    def grpc_target(self) -> str:
        return f"127.0.0.1:{self.layout.grpc_port}"

    def log_path(self, service: str) -> Path:
        return self.log_dir / f"{service}.log"

    def migrate_log_path(self, service: str) -> Path:
        return self.log_dir / f"{service}.migrate.log"

    def pid(self, service: str) -> int | None:
        entry = self._processes.get(service)
        return entry.process.pid if entry is not None and entry.running else None

    def is_running(self, service: str) -> bool:
        entry = self._processes.get(service)
        return entry is not None and entry.running

    def exited(self) -> dict[str, int]:
        """Services whose process has ended, with its exit code."""
        return {s: e.process.returncode for s, e in self._processes.items()
                if e.process.returncode is not None}

    # -- lifecycle -------------------------------------------------------------------------------

    async def __aenter__(self) -> Platform:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: Any) -> None:
        await self.stop()

    async def start(self) -> None:
        """Databases, migrations, processes, readiness; on any failure everything started is stopped."""
        self.check_ports_free()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        await self.prepare_databases()
        await self.migrate()
        try:
            log.info("starting %s", ", ".join(self.services))
            for service in self.services:
                await self._spawn(service)
            await self.wait_ready()
        except BaseException:
            await self.stop()
            raise

    def check_ports_free(self) -> None:
        wanted = [(s, self.layout.http_port(s)) for s in self.services]
        wanted += [(f"{s} gRPC", self.layout.grpc_port) for s in self.services if s in GRPC_SERVICES]
        busy = [f"{port} ({name})" for name, port in wanted if not port_is_free("127.0.0.1", port)]
        if busy:
            raise PlatformError(f"ports already in use on 127.0.0.1: {', '.join(busy)}. "
                                "Is another copy of the platform running? Stop it first.")

    async def prepare_databases(self) -> None:
        names = ", ".join(self.layout.database(s) for s in self.services)
        log.info("%s databases %s", "recreating" if self.fresh else "creating (if missing)", names)
        try:
            await create_databases(self.layout, fresh=self.fresh, services=self.services)
        except OSError as exc:  # refused, unreachable, timed out
            raise PlatformError(f"PostgreSQL at {self.layout.db_host}:{self.layout.db_port} did not answer: "
                                f"{exc}. Is it running? (`./taquilla up` starts it)") from exc
        except Exception as exc:  # asyncpg errors: authentication, permissions
            raise PlatformError(f"could not create the databases as 'postgres' on {self.layout.db_host}:"
                                f"{self.layout.db_port}: {type(exc).__name__}: {exc}") from exc
        if self.fresh:
            log.info("deleting the broker queues and exchanges under prefix %r", self.layout.broker_prefix)
            try:
                await reset_broker(self.layout, [s for s in self.services if s in CONSUMERS])
            except Exception as exc:
                raise PlatformError(f"RabbitMQ at {self.layout.broker_url} could not be reset: "
                                    f"{type(exc).__name__}: {exc}") from exc

    async def migrate(self) -> None:
        """Run every service's `migrate` at once; report every one that failed, with its log."""
        log.info("migrating %s", ", ".join(self.services))
        results = await asyncio.gather(*(self._migrate_one(s) for s in self.services), return_exceptions=True)
        for result in results:
            if isinstance(result, BaseException) and not isinstance(result, Exception):
                raise result  # cancelled: the children have already been stopped
        failures = [str(r) for r in results if isinstance(r, Exception)]
        if failures:
            raise PlatformError("migration failed:\n" + "\n\n".join(failures))

    async def _migrate_one(self, service: str) -> None:
        path = self.migrate_log_path(service)
        started = time.monotonic()
        with path.open("wb") as out:
            out.write(f"--- {_now()} taquilla: {' '.join(self.command(service, 'migrate'))}\n".encode())
            out.flush()
            process = await self._exec(service, "migrate", out)
            try:
                code = await asyncio.wait_for(process.wait(), self.migrate_timeout)
            except TimeoutError:
                raise PlatformError(_failure(service, f"migrate did not finish within {self.migrate_timeout:.0f}s",
                                             path)) from None
            finally:
                if process.returncode is None:
                    _signal_group(process, signal.SIGKILL)
                    await process.wait()
        if code != 0:
            raise PlatformError(_failure(service, f"migrate failed with exit code {code}", path))
        log.info("%s migrated in %.1fs", service, time.monotonic() - started)

    async def _exec(self, service: str, kind: str, out: IO[bytes]) -> asyncio.subprocess.Process:
        # A session of its own: Ctrl-C in the terminal reaches us, and we stop the services in order.
        return await asyncio.create_subprocess_exec(
            *self.command(service, kind), stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=self.environment(service), cwd=self.root, start_new_session=True)

    async def _spawn(self, service: str) -> None:
        path = self.log_path(service)
        previous = self._processes.get(service)
        if previous is not None:
            if previous.running:
                raise PlatformError(f"{service} is already running (pid {previous.process.pid})")
            previous.log_file.close()
        out = path.open("ab" if previous is not None else "wb")  # a restart keeps the earlier log
        out.write(f"--- {_now()} taquilla: {' '.join(self.command(service, 'serve'))}\n".encode())
        out.flush()
        try:
            process = await self._exec(service, "serve", out)
        except BaseException:
            out.close()
            raise
        self._processes[service] = ServiceProcess(service, process, out)

    async def wait_ready(self, services: Iterable[str] | None = None, timeout: float | None = None) -> None:
        """Until each service answers 200 on /healthz/ready (and SERVING over gRPC where it has gRPC)."""
        pending = list(services if services is not None else self.services)
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        status = {s: "no answer yet" for s in pending}
        next_report = time.monotonic() + 15
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while pending:
                for service in pending:
                    self._raise_if_exited(service)
                answers = await asyncio.gather(*(self._probe(client, s) for s in pending))
                for service, answer in zip(list(pending), answers, strict=True):
                    status[service] = answer or "ready"
                    if answer is None:
                        pending.remove(service)
                        log.info("%s is ready at %s", service, self.url(service))
                if not pending:
                    return
                if time.monotonic() > next_report:
                    next_report += 15
                    log.info("still waiting for %s", "; ".join(f"{s} ({status[s]})" for s in pending))
                if time.monotonic() > deadline:
                    for service in pending:
                        self._raise_if_exited(service)
                    raise PlatformError(f"not ready within {timeout:.0f}s: {', '.join(pending)}\n\n" + "\n\n".join(
                        _failure(s, f"last readiness answer: {status[s]}", self.log_path(s)) for s in pending))
                await asyncio.sleep(0.25)

    def _raise_if_exited(self, service: str) -> None:
        entry = self._processes.get(service)
        if entry is None:
            raise PlatformError(f"{service} was never started")
        code = entry.process.returncode
        if code is not None:
            raise PlatformError(_failure(service, f"exited during start-up with exit code {code}",
                                         self.log_path(service)))

    async def _probe(self, client: httpx.AsyncClient, service: str) -> str | None:
        """None when ready, else what it answered."""
        url = f"{self.url(service)}/healthz/ready"
        try:
            response = await client.get(url)
        except httpx.HTTPError as exc:
            return f"GET {url}: {type(exc).__name__} {exc}".strip()
        if response.status_code != 200:
            return f"GET {url}: HTTP {response.status_code} {response.text[:500]}"
        if service in GRPC_SERVICES:
            grpc_status = await grpc_health_status(self.grpc_target)
            if grpc_status != "SERVING":
                return f"gRPC health check on {self.grpc_target}: {grpc_status}"
        return None

    async def kill(self, service: str, sig: signal.Signals = signal.SIGKILL) -> int | None:
        """Send `sig` (SIGKILL by default: a crash) and wait for the process to end; its exit code."""
        entry = self._processes.get(service)
        if entry is None or not entry.running:
            return entry.process.returncode if entry else None
        _signal_group(entry.process, sig)
        code = await entry.process.wait()
        entry.log_file.close()
        return code

    async def stop_service(self, service: str) -> None:
        """SIGTERM, then SIGKILL if it is still running after the grace period."""
        entry = self._processes.get(service)
        if entry is not None:
            await self._terminate([entry])

    async def restart(self, service: str, *, timeout: float | None = None,
                      env: dict[str, str] | None = None) -> None:
        """Stop (if running) and start again; `env` is added to its environment until the next restart
        (a drill arms `TAQUILLA_FAULTS` or points orders at a fault proxy this way)."""
        await self.stop_service(service)
        log.info("restarting %s", service)
        self._env_overrides[service] = dict(env or {})
        await self._spawn(service)
        await self.wait_ready([service], timeout)

    async def wait_exit(self, service: str, timeout: float) -> int:
        """Until the service's process ends (a drill's fault point killed it); its exit code."""
        entry = self._processes.get(service)
        if entry is None:
            raise PlatformError(f"{service} was never started")
        try:
            code = await asyncio.wait_for(entry.process.wait(), timeout)
        except TimeoutError:
            raise PlatformError(_failure(service, f"still running after {timeout:.0f}s", self.log_path(service))) \
                from None
        entry.log_file.close()
        return code

    async def stop(self) -> None:
        """SIGTERM to every service, up to `stop_grace` seconds, then SIGKILL. Safe to call twice."""
        await self._terminate(list(self._processes.values()))

    async def _terminate(self, entries: list[ServiceProcess]) -> None:
        running = [e for e in entries if e.running]
        if running:
            log.info("stopping %s", ", ".join(e.service for e in running))
        for entry in running:
            _signal_group(entry.process, signal.SIGTERM)
        if running:
            waits = [asyncio.ensure_future(e.process.wait()) for e in running]
            await asyncio.wait(waits, timeout=self.stop_grace)
            for entry in running:
                if entry.running:
                    log.warning("%s did not stop within %.0fs: killing it", entry.service, self.stop_grace)
                    _signal_group(entry.process, signal.SIGKILL)
            await asyncio.gather(*waits)
        for entry in entries:
            entry.log_file.close()


def _signal_group(process: asyncio.subprocess.Process, sig: signal.Signals) -> None:
    """Signal the process's group (it leads one, see `_exec`), so helpers it started go too."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            process.send_signal(sig)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


@contextlib.asynccontextmanager
async def run_platform(layout: PlatformLayout, *, fresh: bool = False, log_dir: Path | None = None,
                       platform_class: type[Platform] = Platform, discard: bool = False,
                       **options: Any) -> AsyncIterator[Platform]:
    """The platform started and ready; stopped on the way out, whatever happened inside.

    `discard=True` (tests, benchmarks) also deletes what the run left behind once it is stopped: its
    queues and exchanges on the broker and its databases, so repeated runs do not pile them up.
    """
    platform = platform_class(layout, fresh=fresh, log_dir=log_dir, **options)
    try:
        await platform.start()
        yield platform
    finally:
        await platform.stop()
        if discard:
            await discard_run(layout)


async def discard_run(layout: PlatformLayout) -> None:
    from .databases import drop_databases

    with contextlib.suppress(Exception):  # a broker that is down must not hide the test's own failure
        await reset_broker(layout)
    await drop_databases(layout)
