"""Helpers for the devtools tests: free ports away from the development ones, stand-in services."""
from __future__ import annotations

import random
import socket
import sys
import uuid
from pathlib import Path

import pytest
from taquilla_devtools.databases import drop_databases
from taquilla_devtools.platform import Platform, port_is_free
from taquilla_devtools.services import SERVICES
from taquilla_devtools.testing import test_layout

FAKE_SERVICE = Path(__file__).parent / "fakes" / "fake_service.py"
DEV_PORTS = {*range(8000, 8008), 50051, 1025}


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in DEV_PORTS:
            return port


def free_port_block(size: int = len(SERVICES)) -> int:
    """The first of `size` consecutive free ports (one per service, as PlatformLayout numbers them)."""
    for _ in range(200):
        base = random.randrange(20000, 32000)  # below the kernel's ephemeral range (free_port)
        if all(port_is_free("127.0.0.1", base + i) for i in range(size)):
            return base
    raise RuntimeError("no block of free ports found")


class FakePlatform(Platform):
    """The real Platform, running tests/fakes/fake_service.py in place of each service."""

    def command(self, service: str, kind: str) -> list[str]:
        return [sys.executable, str(FAKE_SERVICE), service, kind]


@pytest.fixture(name="free_port")
def free_port_fixture():
    return free_port


@pytest.fixture(name="free_port_block")
def free_port_block_fixture():
    return free_port_block


@pytest.fixture(name="FakePlatform")
def fake_platform_fixture():
    return FakePlatform


@pytest.fixture
async def fake_layout(tmp_path):
    """A layout on free ports with its own databases (dropped afterwards); FAKE_* settings go in extra_env."""
    state = tmp_path / "state"
    state.mkdir()
    layouts = []

    def make(services: tuple[str, ...], **fake_env: str):
        layout = test_layout(f"dev{uuid.uuid4().hex[:6]}", http_base_port=free_port_block(),
                             grpc_port=free_port(), smtp_port=free_port(),
                             extra_env={"FAKE_STATE_DIR": str(state), **fake_env})
        layouts.append((layout, services))
        return layout

    yield make
    for layout, services in layouts:
        await drop_databases(layout, services=services)
