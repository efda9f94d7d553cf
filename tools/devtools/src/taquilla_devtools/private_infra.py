"""A private RabbitMQ node and a private PostgreSQL cluster, for drills that stop or restart them.

The shared broker (5672) and database server (5432) serve everything else on the machine and are never
stopped; a drill that restarts "the broker" or "the fiscal database" runs the platform on these instead:

    async with PrivateRabbitMQ(workdir) as rabbit, PrivatePostgres(workdir) as pg:
        layout = test_layout("drills", broker_url=rabbit.url, db_ports={"fiscal": pg.port})
        ...
        await rabbit.restart()   # graceful stop of the node, then start on the same data
        await pg.restart()       # pg_ctl restart -m fast: open connections are cut

Both keep their data, logs and sockets under `workdir` and are stopped (and their data deleted) on exit.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import signal
import socket
from pathlib import Path

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")  # the /usr/sbin wrappers re-run as the rabbitmq user
START_TIMEOUT = 90.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _run(*argv: str, env: dict[str, str] | None = None, timeout: float = START_TIMEOUT) -> str:
    process = await asyncio.create_subprocess_exec(*argv, stdout=asyncio.subprocess.PIPE,
                                                   stderr=asyncio.subprocess.STDOUT, env=env)
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise RuntimeError(f"{' '.join(argv)} did not finish within {timeout:.0f}s") from None
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed ({process.returncode}):\n{out.decode(errors='replace')[-3000:]}")
    return out.decode(errors="replace")


class PrivateRabbitMQ:
    """One RabbitMQ node of its own name, ports and data directory (the same version as the shared one)."""

    def __init__(self, workdir: Path, *, name: str = "drill"):
        self.dir = Path(workdir) / "rabbitmq"
        self.node = f"{name}-{os.getpid()}@localhost"
        self.port = free_port()
        self.dist_port = free_port()
        self._server: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/"

    def _tool(self, name: str) -> str:
        path = RABBITMQ_BIN / name
        return str(path) if path.exists() else (shutil.which(name) or name)

    def _env(self) -> dict[str, str]:
        return {**os.environ, "HOME": str(self.dir / "home"),  # the Erlang cookie the node and the CLI share
                "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(self.dir / "mnesia"),
                "RABBITMQ_LOG_BASE": str(self.dir / "log"), "RABBITMQ_PID_FILE": str(self.dir / "pid"),
                "RABBITMQ_ENABLED_PLUGINS_FILE": str(self.dir / "enabled_plugins"),
                "RABBITMQ_CONFIG_FILE": str(self.dir / "rabbitmq"),
                "RABBITMQ_ADVANCED_CONFIG_FILE": str(self.dir / "advanced.config")}

    async def __aenter__(self) -> PrivateRabbitMQ:
        (self.dir / "home").mkdir(parents=True, exist_ok=True)
        (self.dir / "enabled_plugins").write_text("[].\n")
        await self.start()
        return self

    async def __aexit__(self, *exc_info) -> None:
        with contextlib.suppress(Exception):
            await self.stop()
        if self._server is not None and self._server.returncode is None:  # the Erlang VM is in its group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self._server.pid, signal.SIGKILL)
            await self._server.wait()
        shutil.rmtree(self.dir, ignore_errors=True)

    async def start(self) -> None:
        with (self.dir / "server.log").open("ab") as log:
            self._server = await asyncio.create_subprocess_exec(
                self._tool("rabbitmq-server"), stdin=asyncio.subprocess.DEVNULL, stdout=log,
                stderr=asyncio.subprocess.STDOUT, env=self._env(), start_new_session=True)
        try:
            await self.ctl("wait", str(self.dir / "pid"), "--timeout", str(int(START_TIMEOUT)))
        except RuntimeError as exc:
            raise RuntimeError(f"{exc}\n--- {self.dir / 'server.log'} ---\n"
                               f"{(self.dir / 'server.log').read_text(errors='replace')[-3000:]}") from None

    async def stop(self) -> None:
        """A graceful stop of the whole node (`rabbitmqctl stop`): connections closed, queues kept."""
        await self.ctl("stop")
        if self._server is not None:
            await asyncio.wait_for(self._server.wait(), START_TIMEOUT)

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    async def ctl(self, *args: str) -> str:
        return await _run(self._tool("rabbitmqctl"), "-n", self.node, *args, env=self._env())


class PrivatePostgres:
    """A PostgreSQL cluster of its own (the installed server's binaries), trust auth, on a free port."""

    def __init__(self, workdir: Path):
        self.dir = Path(workdir) / "postgres"
        self.data = self.dir / "data"
        self.port = free_port()
        self.bin = _postgres_bin()

    def _as_owner(self, *argv: str) -> list[str]:
        # PostgreSQL refuses to run as root: as root, run it as the 'postgres' system user.
        return ["runuser", "-u", "postgres", "--", *argv] if os.geteuid() == 0 else list(argv)

    async def __aenter__(self) -> PrivatePostgres:
        self.dir.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres")
        await _run(*self._as_owner(str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                                   "-E", "UTF8", "--no-sync"))
        await self.pg_ctl("start")
        return self

    async def __aexit__(self, *exc_info) -> None:
        with contextlib.suppress(Exception):
            await self.pg_ctl("stop")
        shutil.rmtree(self.dir, ignore_errors=True)

    async def restart(self) -> None:
        """`pg_ctl restart -m fast`: every open connection is cut, transactions in flight roll back."""
        await self.pg_ctl("restart")

    async def pg_ctl(self, action: str) -> str:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        return await _run(*self._as_owner(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.dir / "log"),
                                          "-m", "fast", "-w", "-o", options, action))


def _postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    if not found:
        raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql/*/bin")
    return found[-1].parent
