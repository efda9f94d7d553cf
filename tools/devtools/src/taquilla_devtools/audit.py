"""After a sale, what the service databases and the broker say, independent of what the buyers saw.

    checked = await audit(layout, tenant_id, session_id)
    assert audit_problems(checked) == []

Used by the flash sale benchmark and the fault drills: oversold units (a unit sold to two orders, or
sold units no completed order accounts for), completed orders without exactly one invoice or with a
ticket count unlike their unit count, duplicate tickets, fiscal numbers not exactly 1..N, orders left in
a non-final state. `pending_messages` adds what is still waiting: outbox rows due and unsent in every
service, and messages in the consumers' queues, retry queues and dead-letter queues.
"""
from __future__ import annotations

import asyncio
import time
from collections import Counter

import asyncpg

from .services import CONSUMERS, SERVICES, PlatformLayout

FINAL = ("completed", "cancelled", "refunded")


async def connect(layout: PlatformLayout, service: str, *, owner: bool = False) -> asyncpg.Connection:
    return await asyncpg.connect(user=layout.db_owner if owner else layout.db_app_role, host=layout.db_host,
                                 port=layout.database_port(service), database=layout.database(service))


async def scoped(layout: PlatformLayout, service: str, tenant: str, query: str, *params) -> list[asyncpg.Record]:
    """`query` as the application role, inside one transaction scoped to `tenant` (row-level security)."""
    conn = await connect(layout, service)
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", tenant)
            return await conn.fetch(query, *params)
    finally:
        await conn.close()


async def saga_states(layout: PlatformLayout, tenant: str) -> Counter[str]:
    return Counter({r["state"]: r["n"] for r in await scoped(
        layout, "orders", tenant, "SELECT state, count(*) AS n FROM purchase_sagas GROUP BY state")})


async def audit(layout: PlatformLayout, tenant: str, session_id: str, *, settle_seconds: float = 120,
                unpaid_is_final: bool = True) -> dict:
    """Waits up to `settle_seconds` for every saga to reach a final state, then checks. With
    `unpaid_is_final=False` an order still awaiting payment counts as stuck (every order was paid)."""
    deadline = time.monotonic() + settle_seconds
    settled = (*FINAL, "awaiting_payment") if unpaid_is_final else FINAL
    while True:
        states = await saga_states(layout, tenant)
        open_states = {s: n for s, n in states.items() if s not in settled}
        if not open_states or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    completed = await scoped(layout, "orders", tenant,
                             "SELECT o.id, o.hold_id, jsonb_array_length(coalesce(o.units, '[]')) AS units, "
                             "jsonb_array_length(coalesce(o.tickets, '[]')) AS tickets FROM orders o "
                             "JOIN purchase_sagas s ON s.order_id = o.id WHERE s.state = 'completed'")
    sold = await scoped(layout, "inventory", tenant,
                        "SELECT id, hold_id FROM sellable_units WHERE session_id = $1::uuid AND status = 'sold'",
                        session_id)
    completed_holds = {str(r["hold_id"]): r["units"] for r in completed}
    sold_by_hold = Counter(str(r["hold_id"]) for r in sold)
    invoices = await scoped(layout, "fiscal", tenant,
                            "SELECT order_id, number FROM fiscal_documents WHERE document_type = 'invoice'")
    per_order = Counter(str(r["order_id"]) for r in invoices)
    tickets = await scoped(layout, "tickets", tenant, "SELECT order_id, unit_id FROM tickets")
    tickets_per_order = Counter(str(r["order_id"]) for r in tickets)
    numbers = sorted(r["number"] for r in invoices)
    return {
        "orders_by_state": dict(states),
        "stuck_orders": sum(open_states.values()),
        "sold_units": len(sold),
        "oversold_units": sum(1 for hold, n in sold_by_hold.items() if n != completed_holds.get(hold)),
        "units_of_completed_orders": sum(completed_holds.values()),
        "orders_without_one_invoice": sum(1 for r in completed if per_order[str(r["id"])] != 1),
        "invoices_without_completed_order": len(set(per_order) - {str(r["id"]) for r in completed}),
        "orders_with_wrong_ticket_count": sum(1 for r in completed
                                              if tickets_per_order[str(r["id"])] != r["units"]),
        "duplicate_ticket_units": len(tickets) - len({r["unit_id"] for r in tickets}),
        "fiscal_numbers_gap_free": numbers == list(range(1, len(numbers) + 1)),
    }


def audit_problems(checked: dict) -> list[str]:
    """What is wrong in an `audit` result, in words; empty when the sale lost and duplicated nothing."""
    problems = [f"{key}: {checked[key]}" for key in (
        "stuck_orders", "oversold_units", "orders_without_one_invoice", "invoices_without_completed_order",
        "orders_with_wrong_ticket_count", "duplicate_ticket_units") if checked.get(key)]
    if not checked["fiscal_numbers_gap_free"]:
        problems.append("fiscal numbers are not 1..N")
    return problems


async def unsent_outbox(layout: PlatformLayout, services=SERVICES) -> dict[str, int]:
    """Outbox rows due and not yet published, per service (a durable timer not yet due is not counted)."""
    counts = {}
    for service in services:
        conn = await connect(layout, service, owner=True)
        try:
            counts[service] = await conn.fetchval(
                "SELECT count(*) FROM outbox_messages WHERE sent_at IS NULL AND available_at <= now()")
        finally:
            await conn.close()
    return {s: n for s, n in counts.items() if n}


async def queued_messages(layout: PlatformLayout, services=CONSUMERS) -> dict[str, int]:
    """Messages ready in each consumer's queue, its retry queues and its dead-letter queue (non-empty only)."""
    import aio_pika
    from taquilla_messaging.topology import Topology

    topology = Topology(layout.broker_prefix)
    connection = await aio_pika.connect(layout.broker_url, timeout=10)
    counts = {}
    try:
        channel = await connection.channel()
        for service in services:
            names = [topology.queue(service), topology.dead_queue(service),
                     *(topology.retry_queue(service, i) for i in range(1, len(topology.retry_delays_ms) + 1))]
            for name in names:
                queue = await channel.declare_queue(name, passive=True)
                counts[name] = queue.declaration_result.message_count
    finally:
        await connection.close()
    return {name: n for name, n in counts.items() if n}


async def pending_messages(layout: PlatformLayout) -> dict[str, dict[str, int]]:
    """Everything not yet handled: `{"outbox": {service: n}, "queues": {queue: n}}`, empty maps when drained."""
    return {"outbox": await unsent_outbox(layout), "queues": await queued_messages(layout)}
