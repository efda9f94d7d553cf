"""Helpers the payments tests share: orders as payments hears of them, paying, refund commands, events."""
from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from datetime import UTC, datetime, timedelta

from payments_service.adapters.tables import payable_orders, payments, provider_events, refunds
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.orders import OrderPlaced, RefundPayment
from taquilla_devtools.testing import eventually

PAYMENTS = "/api/v1/payments"
WEBHOOKS = "/api/v1/payments/webhooks"
PROBLEM = "application/problem+json"
NO_AUTOMATIC_WEBHOOKS = {"PAYMENTS_TEST_PROVIDER_WEBHOOK_URL": ""}
RESERVED_PORTS = set(range(8000, 8008)) | {1025}  # the platform's local ports


def free_port() -> int:
    while True:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port not in RESERVED_PORTS:
            return port


def order_placed(tenant_id: uuid.UUID, buyer_id: uuid.UUID | None, *, quantity: int = 3,
                 unit_price_minor: int = 1999, currency: str = "USD", event_id: uuid.UUID | None = None) -> Envelope:
    order_id = uuid.uuid4()
    event = OrderPlaced(
        order_id=order_id, code=f"TQ-{order_id.hex[:6].upper()}", event_id=event_id or uuid.uuid4(),
        session_id=uuid.uuid4(),
        buyer=Buyer(user_id=buyer_id, email="ana@example.test", name="Ana"),
        lines=[OrderLine(zone_id=uuid.uuid4(), zone_name="General", quantity=quantity,
                         unit_price_minor=unit_price_minor)],
        total_minor=quantity * unit_price_minor, currency=currency,
        hold_expires_at=datetime.now(UTC) + timedelta(minutes=10),
    )
    return Envelope.wrap(event, source="orders", tenant_id=tenant_id, correlation_id=str(order_id))


async def place(h, tenant_id: uuid.UUID, buyer_id: uuid.UUID | None, **kwargs) -> uuid.UUID:
    """Announce an order as orders would, and wait until payments knows it."""
    envelope = order_placed(tenant_id, buyer_id, **kwargs)
    await h.publish(envelope)
    order_id = uuid.UUID(envelope.data["order_id"])

    async def known():
        async with h.db() as uow:
            return (await uow.session.execute(
                select(payable_orders.c.order_id).where(payable_orders.c.order_id == order_id))).first()

    await eventually(known)
    return order_id


async def pay(h, headers: dict, order_id, *, key: str | None = None, provider: str = "test", **extra):
    body = {"order_id": str(order_id), "provider": provider, **extra}
    return await h.client.post(PAYMENTS, json=body,
                               headers={**headers, "Idempotency-Key": key or str(uuid.uuid4())})


def refund_command(tenant_id: uuid.UUID, payment: dict, *, amount_minor: int | None = None,
                   refund_id: uuid.UUID | None = None, reason: str = "buyer_request",
                   currency: str | None = None) -> Envelope:
    command = RefundPayment(refund_id=refund_id or uuid.uuid4(), order_id=uuid.UUID(payment["order_id"]),
                            payment_id=uuid.UUID(payment["id"]),
                            amount_minor=payment["amount_minor"] if amount_minor is None else amount_minor,
                            currency=currency or payment["currency"], reason=reason)
    return Envelope.wrap(command, source="orders", tenant_id=tenant_id, correlation_id=payment["order_id"])


async def next_event(queue: asyncio.Queue, *, timeout: float = 15.0) -> Envelope:
    return await asyncio.wait_for(queue.get(), timeout)


async def nothing_more(queue: asyncio.Queue, *, settle: float = 1.0) -> list[Envelope]:
    """What else arrives once the relay has had time to publish anything more."""
    await asyncio.sleep(settle)
    found = []
    while not queue.empty():
        found.append(queue.get_nowait())
    return found


async def stored(h, table, **where) -> list:
    async with h.db() as uow:
        query = select(table).where(*(table.c[k] == v for k, v in where.items()))
        return (await uow.session.execute(query)).all()


async def payment_status(h, payment_id) -> str | None:
    rows = await stored(h, payments, id=uuid.UUID(str(payment_id)))
    return rows[0].status if rows else None


async def until_payment_is(h, payment_id, status: str) -> None:
    async def check():
        return await payment_status(h, payment_id) == status

    await eventually(check)


@contextlib.asynccontextmanager
async def served(app, port: int):
    """The service's own API on a real port, for webhooks that come over HTTP."""
    from taquilla_platform.http import serve_http

    stop = asyncio.Event()
    task = asyncio.create_task(serve_http(app, "127.0.0.1", port, stop))
    for _ in range(100):
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            break
        except OSError:
            await asyncio.sleep(0.05)
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)


__all__ = ["PAYMENTS", "PROBLEM", "WEBHOOKS", "payable_orders", "payments", "provider_events", "refunds"]
