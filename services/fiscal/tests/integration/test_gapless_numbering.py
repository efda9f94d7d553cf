"""1,000 invoices issued by 8 real worker processes: exactly 1..1,000, even when workers are SIGKILLed."""
import asyncio
import os
import random
import signal
import subprocess
import sys
import uuid
from datetime import UTC, datetime

import aio_pika
import pytest
from sqlalchemy import text
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import FiscalLine, IssueFiscalDocument
from taquilla_devtools.testing import eventually, service_harness, staff
from taquilla_messaging.consumer import replay_dead_letters

ISSUANCES = int(os.environ.get("FISCAL_TEST_ISSUANCES", "1000"))
WORKERS = 8


def command(tenant_id: uuid.UUID, i: int) -> Envelope:
    order = IssueFiscalDocument(
        order_id=uuid.uuid4(), order_code=f"TQ-{i:05d}", buyer=Buyer(email="ana@example.test", name="Ana"),
        lines=[FiscalLine(description="General", quantity=1, unit_price_minor=1000 + i)], total_minor=1000 + i,
        currency="USD", paid_at=datetime.now(UTC), payment_method="card")
    return Envelope.wrap(order, source="orders", tenant_id=tenant_id, correlation_id=str(order.order_id))


def start_worker(h) -> subprocess.Popen:
    # small pools: eight workers must not take the database's connections from everyone else
    env = {**os.environ, **h.layout.env("fiscal"), "FISCAL_LOG_LEVEL": "WARNING", "FISCAL_DB__POOL_SIZE": "2",
           "FISCAL_DB__MAX_OVERFLOW": "0", "FISCAL_BROKER__PREFETCH": "4"}
    return subprocess.Popen([sys.executable, "-m", "fiscal_service", "worker"], env=env,
                            stdout=subprocess.DEVNULL, stderr=open(os.environ.get("FISCAL_TEST_WORKER_LOG", os.devnull), "ab"))


async def issued_numbers(h, tenant_id) -> list[tuple[int, str]]:
    async with h.db() as uow:
        rows = (await uow.session.execute(text(
            "SELECT number, order_code FROM fiscal_documents WHERE tenant_id = :t AND document_type = 'invoice' "
            "ORDER BY number"), {"t": tenant_id})).all()
    return [(r[0], r[1]) for r in rows]


async def run_issuances(kills: int) -> None:
    async with service_harness("fiscal", name="gapless", worker=False) as h:
        tenant = uuid.uuid4()
        workers = [start_worker(h) for _ in range(WORKERS)]
        try:
            for i in range(ISSUANCES):
                await h.publish(command(tenant, i))
            rng = random.Random()
            if kills:  # kill while numbers are being issued, not while the workers are still starting
                await eventually(lambda: _at_least(h, tenant, 30), timeout=600, interval=0.2)
            for _ in range(kills):
                await asyncio.sleep(rng.uniform(0.1, 2.0))
                victim = rng.randrange(WORKERS)
                workers[victim].send_signal(signal.SIGKILL)  # mid-transaction, mid-ack, anywhere
                workers[victim].wait()
                workers[victim] = start_worker(h)

            connection = await aio_pika.connect_robust(h.layout.broker_url)

            async def all_issued():
                # a message whose consumers kept dying is parked at its delivery limit: the operator replays it
                await replay_dead_letters(connection, h.topology, "fiscal")
                found = await issued_numbers(h, tenant)
                return found if len(found) >= ISSUANCES else None

            try:
                found = await eventually(all_issued, timeout=900, interval=0.5)
            finally:
                await connection.close()
        finally:
            for worker in workers:
                worker.send_signal(signal.SIGKILL)
                worker.wait()

        numbers = [n for n, _ in found]
        assert numbers == list(range(1, ISSUANCES + 1)), "a gap or a duplicate in the series"
        assert len({code for _, code in found}) == ISSUANCES, "an order was invoiced twice"
        verify = (await h.client.get("/api/v1/fiscal/audit/verify", headers=staff(tenant))).json()
        assert verify["valid"] and verify["entries_checked"] >= ISSUANCES


async def _at_least(h, tenant_id, n):
    return len(await issued_numbers(h, tenant_id)) >= n


@pytest.mark.timeout(1800)
async def test_a_thousand_concurrent_issuances_by_eight_workers_number_exactly_one_to_a_thousand():
    await run_issuances(kills=0)


@pytest.mark.timeout(1800)
async def test_workers_killed_at_random_points_and_retried_still_leave_no_gap_and_no_duplicate():
    await run_issuances(kills=12)
