"""`up` as a process: it prints where everything is, keeps the mail, and stops cleanly on SIGINT or SIGTERM."""
from __future__ import annotations

import json
import signal
import smtplib
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from taquilla_devtools.seed import DEMO_BUYER, DEMO_ORGANIZER
from taquilla_devtools.services import DEMO_ADMIN

RUN_UP = Path(__file__).parent / "fakes" / "run_up.py"
SERVICES = ("gateway", "catalog", "notifications")


def start_up(layout, tmp_path) -> subprocess.Popen:
    layout_fields = {"http_base_port": layout.http_base_port, "grpc_port": layout.grpc_port,
                     "smtp_port": layout.smtp_port, "db_prefix": layout.db_prefix,
                     "broker_prefix": layout.broker_prefix, "environment": "test", "extra_env": layout.extra_env}
    spec = {"layout": layout_fields, "services": SERVICES, "mail_dir": str(tmp_path / "mail"),
            "log_dir": str(tmp_path / "logs")}
    return subprocess.Popen([sys.executable, str(RUN_UP), json.dumps(spec)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, stdin=subprocess.DEVNULL)


def read_until(process: subprocess.Popen, marker: str, timeout: float = 60) -> str:
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line and process.poll() is not None:
            break
        seen.append(line)
        if marker in line:
            return "".join(seen)
    process.kill()
    raise AssertionError(f"{marker!r} never came; output:\n{''.join(seen)}{process.stdout.read()}")


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
async def test_up_prints_the_platform_keeps_the_mail_and_stops_cleanly(sig, fake_layout, tmp_path):
    layout = fake_layout(SERVICES)
    process = start_up(layout, tmp_path)
    try:
        output = read_until(process, "Press Ctrl-C to stop.")
        for expected in (f"gateway          http://127.0.0.1:{layout.http_base_port}",
                         f"API docs         http://127.0.0.1:{layout.http_base_port}/docs",
                         f"catalog          {layout.url('catalog')}",
                         f"notifications    {layout.url('notifications')}",
                         f"inventory gRPC   127.0.0.1:{layout.grpc_port}",
                         f"RabbitMQ         {layout.broker_url}",
                         f"mail             {tmp_path / 'mail'} (SMTP sink on 127.0.0.1:{layout.smtp_port})",
                         f"{DEMO_ADMIN[0]} / {DEMO_ADMIN[1]}",
                         f"{DEMO_ORGANIZER.email} / {DEMO_ORGANIZER.password}",
                         f"{DEMO_BUYER.email} / {DEMO_BUYER.password}"):
            assert expected in output
        with smtplib.SMTP("127.0.0.1", layout.smtp_port, timeout=10) as client:
            client.sendmail("tickets@taquilla.local", ["ana@example.com"], b"Subject: Tus boletos\r\n\r\nhola\r\n")
        assert len(list((tmp_path / "mail").glob("*.eml"))) == 1

        process.send_signal(sig)
        assert process.wait(timeout=30) == 0
        rest = process.stdout.read()
        assert f"{sig.name} received: stopping the platform" in rest
        assert "the platform has stopped" in rest
    finally:
        if process.poll() is None:
            process.kill()
    for service in SERVICES:
        assert "got SIGTERM, stopping" in (tmp_path / "logs" / f"{service}.log").read_text()
    async with httpx.AsyncClient(trust_env=False) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(layout.url("gateway") + "/healthz/ready")


async def test_up_names_the_service_that_failed_and_exits_1(fake_layout, tmp_path):
    layout = fake_layout(SERVICES, FAKE_NOTIFICATIONS="die")
    process = start_up(layout, tmp_path)
    try:
        output, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 1
    assert "the platform could not start:\nnotifications: exited during start-up with exit code 3" in output
    assert "boom: notifications cannot start" in output
    assert "Press Ctrl-C" not in output


