"""`python -m taquilla_devtools up|seed`: the whole platform on this machine, with demo data.

`./taquilla up` gets PostgreSQL, RabbitMQ, Redis and the virtual environment ready, then runs this.
"""
from __future__ import annotations

import argparse
import asyncio
import logging
import signal
import sys
import threading
from pathlib import Path

from .platform import READY_TIMEOUT, REPO_ROOT, STOP_GRACE, Platform, PlatformError, run_platform
from .seed import DEMO_BUYER, DEMO_ORGANIZER, DEMO_TENANT, DemoData, SeedError, seed_demo
from .services import DEMO_ADMIN, SERVICES, PlatformLayout
from .smtp_sink import SmtpSink

log = logging.getLogger("taquilla")


def banner(platform: Platform, mail_dir: Path, demo: DemoData | None) -> str:
    layout = platform.layout
    lines = [
        "",
        "Taquilla is running.",
        f"  gateway          {platform.gateway_url}",
        f"  API docs         {platform.gateway_url}/docs",
    ]
    lines += [f"  {service:<16} {platform.url(service)}" for service in platform.services if service != "gateway"]
    lines += [
        f"  inventory gRPC   {platform.grpc_target}",
        f"  RabbitMQ         {layout.broker_url} (prefix {layout.broker_prefix})",
        f"  PostgreSQL       {layout.db_host}:{layout.db_port}, databases {layout.db_prefix}_<service>",
        f"  mail             {mail_dir} (SMTP sink on {layout.smtp_host}:{layout.smtp_port})",
        f"  logs             {platform.log_dir}",
        "",
        "Demo accounts" + ("" if demo else " (not seeded in this run)"),
        f"  platform admin   {DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}",
        f"  organizer        {DEMO_ORGANIZER.email} / {DEMO_ORGANIZER.password}"
        f"  ({DEMO_TENANT['name']}, slug {DEMO_TENANT['slug']})",
        f"  buyer            {DEMO_BUYER.email} / {DEMO_BUYER.password}",
    ]
    if demo is not None:
        lines.append(f"  demo event       {platform.gateway_url}/api/v1/events/{demo.event_id}")
    lines += ["", "Press Ctrl-C to stop.", ""]
    return "\n".join(lines)


async def _watch(platform: Platform) -> None:
    """Report, once each, services that end while the platform runs (the others keep running)."""
    reported: set[str] = set()
    while True:
        for service, code in platform.exited().items():
            if service not in reported:
                reported.add(service)
                log.error("%s stopped unexpectedly (exit code %s); its log: %s", service, code,
                          platform.log_path(service))
        await asyncio.sleep(1.0)


async def _run(layout: PlatformLayout, *, fresh: bool, seed: bool, ready_timeout: float, mail_dir: Path,
               platform_class: type[Platform], services: tuple[str, ...]) -> None:
    sink = SmtpSink(mail_dir, host=layout.smtp_host, port=layout.smtp_port)
    await asyncio.to_thread(sink.start)
    try:
        async with run_platform(layout, fresh=fresh, platform_class=platform_class,
                                ready_timeout=ready_timeout, services=services) as platform:
            demo = None
            if seed:
                try:
                    demo = await seed_demo(platform.gateway_url)
                except (SeedError, OSError) as exc:  # the platform is still useful without demo data
                    log.error("seeding the demo data failed: %s", exc)
            print(banner(platform, mail_dir, demo), flush=True)
            await _watch(platform)
    finally:
        await asyncio.to_thread(sink.stop)


async def up(layout: PlatformLayout | None = None, *, fresh: bool = False, seed: bool = True,
             ready_timeout: float = READY_TIMEOUT, mail_dir: Path | None = None,
             platform_class: type[Platform] = Platform, services: tuple[str, ...] = SERVICES) -> int:
    """Run until SIGINT or SIGTERM (exit code 0), or until the platform cannot start (1)."""
    layout = layout or PlatformLayout()
    loop = asyncio.get_running_loop()
    work = asyncio.create_task(_run(layout, fresh=fresh, seed=seed, ready_timeout=ready_timeout,
                                    mail_dir=mail_dir or REPO_ROOT / "var" / "mail",
                                    platform_class=platform_class, services=services))
    stopping = False

    def on_signal(sig: signal.Signals) -> None:
        nonlocal stopping
        if stopping:
            log.warning("%s: already stopping (services get %.0fs before SIGKILL)", sig.name, STOP_GRACE)
            return
        stopping = True
        log.info("%s received: stopping the platform", sig.name)
        work.cancel()

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await work
    except asyncio.CancelledError:
        if not stopping:
            raise
        log.info("the platform has stopped")
        return 0
    except (PlatformError, OSError) as exc:
        log.error("the platform could not start:\n%s", exc)
        return 1
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    return 0


async def seed_only(layout: PlatformLayout) -> int:
    try:
        demo = await seed_demo(layout.url("gateway"))
    except (SeedError, OSError) as exc:
        log.error("seeding failed: %s", exc)
        return 1
    print(f"demo data ready: event {demo.event_id}; created in this run: {', '.join(demo.created) or 'nothing'}")
    return 0


def mail_sink(folder: Path, host: str, port: int) -> int:
    """Only the SMTP sink, until SIGINT or SIGTERM: for a platform started some other way (the benchmarks)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    sink = SmtpSink(folder, host=host, port=port)
    try:
        sink.start()
    except OSError as exc:
        log.error("%s", exc)
        return 1
    print(f"SMTP sink on {host}:{port}, saving mail in {folder}", flush=True)
    stop.wait()
    sink.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m taquilla_devtools",
                                     description="Run the Taquilla platform as local processes.")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("up", help="databases, migrations, every service, the SMTP sink and demo data; "
                                         "Ctrl-C stops it all")
    run.add_argument("--fresh", action="store_true", help="drop the databases and broker queues first")
    run.add_argument("--no-seed", action="store_true", help="do not create the demo data")
    run.add_argument("--ready-timeout", type=float, default=READY_TIMEOUT, metavar="SECONDS",
                     help=f"how long services get to become ready (default {READY_TIMEOUT:.0f})")
    commands.add_parser("seed", help="create the demo data on a platform that is already running")
    sink = commands.add_parser("mail-sink", help="only the SMTP sink that keeps every email as a file")
    sink.add_argument("--folder", type=Path, default=REPO_ROOT / "var" / "mail")
    sink.add_argument("--host", default="127.0.0.1")
    sink.add_argument("--port", type=int, default=1025)
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s", datefmt="%H:%M:%S",
                        stream=sys.stderr)
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # aiosmtpd's per-connection chatter
    if args.command == "seed":
        return asyncio.run(seed_only(PlatformLayout()))
    if args.command == "mail-sink":
        return mail_sink(args.folder, args.host, args.port)
    return asyncio.run(up(fresh=args.fresh, seed=not args.no_seed, ready_timeout=args.ready_timeout))


if __name__ == "__main__":
    sys.exit(main())
