"""Fixtures of payments' tests: local fakes of the providers, on free ports."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "fakes"))

from payments_fake_stripe import FakeStripe  # noqa: E402
from payments_support import free_port  # noqa: E402


@pytest.fixture
async def fake_stripe():
    """A started fake of Stripe's API; `.env` points payments at it."""
    fake = FakeStripe(free_port())
    await fake.start()
    yield fake
    await fake.stop()
