"""Fiscal numbers: consecutive per series, one document per order, duplicates have no effect."""
import asyncio
import uuid
from datetime import UTC, datetime

from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import FiscalLine, IssueFiscalDocument
from sqlalchemy import text
from taquilla_devtools.testing import eventually, service_harness, staff
from taquilla_messaging.consumer import ERROR_HEADER


def issue_command(tenant_id: uuid.UUID, order_id: uuid.UUID | None = None, *, code: str = "TQ-TEST",
                  point_of_sale: str = "online", total_minor: int = 5997) -> Envelope:
    command = IssueFiscalDocument(
        order_id=order_id or uuid.uuid4(), order_code=code, buyer=Buyer(email="ana@example.test", name="Ana"),
        lines=[FiscalLine(description="General", quantity=3, unit_price_minor=1999)], total_minor=total_minor,
        currency="USD", paid_at=datetime.now(UTC), payment_method="test", point_of_sale=point_of_sale,
    )
    return Envelope.wrap(command, source="orders", tenant_id=tenant_id, correlation_id=str(command.order_id))


async def documents(h, tenant_id):
    response = await h.client.get("/api/v1/fiscal/documents", headers=staff(tenant_id))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_numbers_are_consecutive_and_a_redelivered_command_issues_nothing_more():
    async with service_harness("fiscal") as h:
        tenant, other_tenant = uuid.uuid4(), uuid.uuid4()
        issued = await h.listen("fiscal.document.issued")
        first = issue_command(tenant)
        for envelope in (first, first, issue_command(tenant), issue_command(other_tenant)):
            await h.publish(envelope)

        mine = await eventually(lambda: _count(h, tenant, 2))
        assert [d["formatted_number"] for d in mine] == ["A-00000001", "A-00000002"]
        theirs = await eventually(lambda: _count(h, other_tenant, 1))
        assert theirs[0]["number"] == 1  # each organizer has its own series
        events = [await asyncio.wait_for(issued.get(), 10) for _ in range(3)]
        assert sorted(e.data["number"] for e in events) == [1, 1, 2]
        await asyncio.sleep(0.5)
        assert issued.empty(), "a duplicate delivery published a second document"
        assert len(await documents(h, tenant)) == 2


async def test_the_same_order_never_gets_two_numbers_even_under_another_message_id():
    async with service_harness("fiscal") as h:
        tenant, order_id = uuid.uuid4(), uuid.uuid4()
        await h.publish(issue_command(tenant, order_id))
        await h.publish(issue_command(tenant, order_id))
        await h.publish(issue_command(tenant))
        docs = await eventually(lambda: _count(h, tenant, 2))
        await asyncio.sleep(0.5)
        docs = await documents(h, tenant)
        assert [d["number"] for d in docs] == [1, 2]
        assert sum(d["order_id"] == str(order_id) for d in docs) == 1


async def test_a_backlog_is_issued_in_shared_transactions_in_the_order_paid_and_a_bad_command_alone_is_parked():
    async with service_harness("fiscal", worker=False) as h:  # the commands queue before a worker is up
        tenant = uuid.uuid4()
        backlog = [issue_command(tenant, code=f"TQ-{i:03d}", point_of_sale=("online", "door")[i % 3 == 0])
                   for i in range(60)]
        twice = issue_command(tenant, backlog[10].data["order_id"], code="TQ-010-again")  # same order, new message
        unpaid = issue_command(tenant, code="TQ-UNPAID", total_minor=1)  # lines do not add up: never invoiced
        for envelope in backlog[:30] + [twice, unpaid] + backlog[30:]:
            await h.publish(envelope)
        stop = asyncio.Event()
        worker = asyncio.create_task(h.definition.run_worker(h.container, stop))
        try:
            docs = await eventually(lambda: _count(h, tenant, 60), timeout=60)
            dead = await h.channel.get_queue(h.topology.dead_queue("fiscal"), ensure=False)
            parked = await eventually(lambda: dead.get(no_ack=True, fail=False), timeout=30)
        finally:
            stop.set()
            await worker
        assert parked.message_id == str(unpaid.id) and "do not add up" in parked.headers[ERROR_HEADER]
        for point_of_sale in ("online", "door"):
            sold_here = [e.data["order_code"] for e in backlog if e.data["point_of_sale"] == point_of_sale]
            series = sorted((d for d in docs if d["point_of_sale"] == point_of_sale), key=lambda d: d["number"])
            assert [d["number"] for d in series] == list(range(1, len(sold_here) + 1))  # no gap, nothing skipped
            assert [d["order_code"] for d in series] == sold_here  # numbered in the order the payments came
        async with h.db() as uow:
            transactions = (await uow.session.execute(text(
                "SELECT count(DISTINCT xmin::text) FROM fiscal_documents WHERE tenant_id = :t"), {"t": tenant})).scalar()
        assert transactions < 60 / 2  # a queue of invoices shares commits rather than taking one each
        chain = await h.client.get("/api/v1/fiscal/audit/verify", headers=staff(tenant))
        assert chain.json()["valid"] is True and chain.json()["entries_checked"] == 60


async def test_tax_is_rounded_up_per_line_and_totals_add_up():
    async with service_harness("fiscal") as h:
        tenant = uuid.uuid4()
        await h.publish(issue_command(tenant))
        (doc,) = await eventually(lambda: _count(h, tenant, 1))
        # 3 x 19.99 = 59.97 at 16% VAT included: base floor(5997 / 1.16) = 5169, tax 828
        assert (doc["subtotal_minor"], doc["tax_minor"], doc["total_minor"]) == (5169, 828, 5997)


async def test_documents_are_staff_only_and_tenant_scoped():
    async with service_harness("fiscal") as h:
        tenant = uuid.uuid4()
        await h.publish(issue_command(tenant))
        await eventually(lambda: _count(h, tenant, 1))
        anonymous = await h.client.get("/api/v1/fiscal/documents")
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
        assert await documents(h, uuid.uuid4()) == []


async def _count(h, tenant_id, n):
    docs = await documents(h, tenant_id)
    return docs if len(docs) >= n else None
