"""`python -m <svc>_service api|worker|grpc|migrate|serve`: one process kind per command.

`serve` runs every long-running kind of a service in one process, for local development; images and
Kubernetes run each kind as its own process. SIGINT/SIGTERM stop every kind gracefully.
"""
from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from .logs import configure_logging
from .settings import ServiceSettings
from .telemetry import configure_telemetry, shutdown_telemetry

S = TypeVar("S", bound=ServiceSettings)
Kind = Callable[[Any, asyncio.Event], Awaitable[None]]
log = logging.getLogger("taquilla.runner")


def main(
    service: str,
    *,
    settings: Callable[[], S],
    container: Callable[[S], contextlib.AbstractAsyncContextManager[Any]],
    kinds: dict[str, Kind],
    migrate: Callable[[S], Awaitable[None]],
    argv: list[str] | None = None,
) -> None:
    argv = sys.argv[1:] if argv is None else argv
    choices = [*kinds, "migrate", "serve"]
    if len(argv) != 1 or argv[0] not in choices:
        print(f"usage: python -m {service}_service {{{'|'.join(choices)}}}", file=sys.stderr)
        raise SystemExit(2)
    kind = argv[0]
    built = settings()
    configure_logging(service, built.log_level)
    configure_telemetry(service)
    try:
        if kind == "migrate":
            asyncio.run(migrate(built))
        else:
            selected = list(kinds.values()) if kind == "serve" else [kinds[kind]]
            collect_garbage_less_often()
            asyncio.run(run_kinds(container(built), selected, name=f"{service} {kind}"))
    finally:
        shutdown_telemetry()


# Objects allocated between two collections of the youngest generation (Python's default is 700).
YOUNG_GENERATION_THRESHOLD = 50_000


def collect_garbage_less_often() -> None:
    """Fewer, cheaper garbage collections for a service process answering thousands of calls a second.

    Every call allocates a few hundred short-lived objects (messages, records, coroutines). At Python's
    default thresholds the young generation was collected hundreds of times a second and the whole heap
    (modules, caches, the seat maps) every few seconds, stalling every call under way: the holds
    benchmark's p99 (14,000 holds a run) was 160-200 ms with those stalls and 117 ms without, and the
    flash sale's service CPU a purchase went from ~300 ms to ~160 ms. Startup's objects are moved out
    of the collector's sight (`gc.freeze`), and the young generation is collected after 50,000
    allocations instead of 700, so the older ones (and the full collections) come 70 times less often.
    Cycles are still collected, a little later.
    """
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, older, oldest)


async def run_kinds(container_cm: contextlib.AbstractAsyncContextManager[Any], kinds: list[Kind],
                    *, name: str, stop: asyncio.Event | None = None) -> None:
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    async with container_cm as container:
        tasks = [asyncio.create_task(kind(container, stop)) for kind in kinds]
        log.info("%s started", name)
        failed: BaseException | None = None
        pending = set(tasks)
        while pending:
            done, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                if task.exception() is not None and failed is None:
                    failed = task.exception()
                    log.error("%s: a process kind failed, stopping", name, exc_info=failed)
            stop.set()
        log.info("%s stopped", name)
    if failed is not None:
        raise SystemExit(1)
