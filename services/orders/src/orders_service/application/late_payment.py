"""A payment captured after the order was cancelled: keep the sale when the order only ran out of time and its
units are still free, else give the whole payment back (the table is in saga.py).

    cancelled ──captured; the hold had expired; the same units held again──> confirming_hold (then as any paid order)
              ├──captured; the hold had expired; a unit is gone (taken, sold out, off sale)──> refund_required
              └──captured; given up by the buyer or staff, a plan, a resale order──> as saga.payment_after_cancellation

The same units are held again over gRPC (numbered seats by their unit ids, general admission as the same
quantity of the same zone) under a hold id derived from the order, so a capture delivered again gets the same
hold back. The catalog's share the cancellation gave back (the stage allotment, the promo code use) is taken
again for the new hold; the buyer keeps the price already paid whatever the catalog answers. Inventory or the
catalog not answering is raised, as in every saga step that calls out: the bus brings the capture back later
(growing delays, then the dead-letter queue, where it can be replayed) and nothing is refunded meanwhile.
"""
from __future__ import annotations

import logging
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from taquilla_contracts.orders import OrderCancelled
from taquilla_contracts.payments import PaymentCaptured

from ..adapters.catalog_client import CatalogClient, CatalogRefused
from ..adapters.inventory_client import HeldUnits, InventoryClient, InventoryRefused, Selection
from ..adapters.tables import bus
from ..config import Settings
from ..domain.cart import GENERAL, SEATS
from ..domain.orders import SagaState
from .refunds import refund_whole_payment
from .release_pricing import service_token

if TYPE_CHECKING:
    from .saga import SagaContext

log = logging.getLogger("taquilla.orders.late_payment")
HOLD_EXPIRED = "hold_expired"
LATE_PAYMENT = "late_payment"  # the refund's reason: the buyer's refund email and the partners' webhook say it
HELD_AGAIN = "payment arrived after the hold expired; the same units were free and held again"
SECOND_HOLD = "late-payment-hold"  # with the order id, names the hold taken for a late payment
CONSUMER = "orders"  # the bus consumer (entrypoints/messaging) whose inbox records orders' own handlers


class LatePayments:
    """What the step needs besides the saga: the service's settings, and an inventory client made in the
    consumer's event loop on the first late payment."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.inventory: InventoryClient | None = None

    def inventory_client(self) -> InventoryClient:
        if self.inventory is None:
            self.inventory = InventoryClient(self.settings.inventory.target, self.settings.inventory.timeout_seconds)
        return self.inventory


LATE: LatePayments | None = None  # set when the service's subscriptions are built


def configure(settings: Settings) -> None:
    global LATE
    LATE = LatePayments(settings)


def second_hold_id(order_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(order_id, SECOND_HOLD)


def same_units(order) -> Selection:
    """Numbered seats: exactly the seats the order had; general admission: as many in the same zone."""
    lines = order.lines
    if all(line["selection"] == GENERAL for line in lines):
        return Selection(GENERAL, uuid.UUID(lines[0]["zone_id"]), sum(line["quantity"] for line in lines))
    unit_ids = tuple(uuid.UUID(unit) for line in lines for unit in line["unit_ids"])
    return Selection(SEATS, quantity=len(unit_ids), seat_ids=unit_ids)


async def hold_again_or_refund(ctx: SagaContext, payment: PaymentCaptured) -> None:
    from .saga import confirm_hold_command, payment_after_cancellation  # saga.py's table lists this step

    order = ctx.order
    if order.cancel_reason != HOLD_EXPIRED or order.resale or order.plan:
        await payment_after_cancellation(ctx, payment)  # given up on purpose: the money goes back
        return
    if LATE is None:  # raised, so the capture is retried rather than refunded by mistake
        raise RuntimeError("late payments are not configured: call late_payment.configure(settings)")
    try:  # InventoryUnavailable is raised: the bus retries, and the same hold id gets the same hold back
        held = await LATE.inventory_client().hold(
            hold_id=second_hold_id(order.id), owner_id=order.id, tenant_id=order.tenant_id,
            session_id=order.session_id, buyer_id=order.buyer_user_id,
            ttl_seconds=LATE.settings.holds.extension_seconds, selection=same_units(order))
    except InventoryRefused as refused:
        await _units_gone(ctx, payment, f"{refused.reason or refused.code.name.lower()}: {refused.detail}")
        return
    if held.expires_at <= datetime.now(UTC):  # a retry long after the first try finds that hold lapsed
        await _units_gone(ctx, payment, "the units held again lapsed before the sale could go on")
        return
    await _settle_cancellation(ctx)
    catalog_notes = await _take_catalog_share_again(LATE.settings, order, held)
    await ctx.record_payment(payment)
    await ctx.update_order(hold_id=held.hold_id, hold_expires_at=held.expires_at, cancel_reason=None,
                           lines=lines_on(order.lines, held.units))
    await ctx.move_to(SagaState.CONFIRMING_HOLD, "; ".join([HELD_AGAIN, *catalog_notes]))
    await ctx.send(confirm_hold_command(ctx.order))


async def _units_gone(ctx: SagaContext, payment: PaymentCaptured, why: str) -> None:
    await ctx.record_payment(payment)
    await ctx.move_to(SagaState.REFUND_REQUIRED,
                      f"payment arrived after the hold expired; the units were no longer available ({why})")
    await refund_whole_payment(ctx, LATE_PAYMENT)


async def _settle_cancellation(ctx: SagaContext) -> None:
    """Mark orders' own handling of the cancellation (release_pricing.py) as done, in this transaction: run later,
    it would read the order's new hold id and give back the new hold's stage prices. Its give-back of the first
    hold's share is made in `_take_catalog_share_again`. A handler already under way finishes (with the first hold
    id) before this insert returns."""
    session = ctx.uow.session
    cancellations = (await session.execute(select(bus.outbox.c.message_id).where(
        bus.outbox.c.routing_key == OrderCancelled.TYPE,
        bus.outbox.c.envelope["data"]["order_id"].astext == str(ctx.order.id)))).scalars().all()
    for message_id in cancellations:
        await session.execute(insert(bus.inbox).values(
            consumer=CONSUMER, message_id=message_id, message_type=OrderCancelled.TYPE).on_conflict_do_nothing())


async def _take_catalog_share_again(settings: Settings, order, held: HeldUnits) -> list[str]:
    """Give back the first hold's stage allotment and promo use (once: the catalog makes both idempotent), then
    take them again for the new hold. The catalog allots at the stages in force now and may refuse a promo code
    that has run out: the buyer keeps the price paid, and what differs is returned for the saga's timeline."""
    notes: list[str] = []
    catalog = CatalogClient(settings.catalog.base_url, settings.catalog.timeout_seconds)
    token = service_token(settings)
    try:  # CatalogUnavailable is raised: retried with the same ids, which the catalog answers the same way
        try:
            await catalog.release_stages(token, order.event_id, order.hold_id)
            allotted = await catalog.allocate_stages(token, order.event_id, held.hold_id, order.session_id,
                                                     stage_quantities(order.lines))
            if order.pricing and allotted_prices(allotted["allocations"]) != paid_stage_prices(order.pricing):
                notes.append("the catalog counts them at the stage prices in force now; the buyer keeps the price paid")
        except CatalogRefused as refused:
            notes.append(f"the catalog did not allot stage prices again ({refused.slug})")
        if order.promo_code:
            try:
                await catalog.cancel_promo(token, order.event_id, order.promo_code, str(order.id))
                await catalog.redeem_promo(token, order.event_id, order.promo_code, str(held.hold_id),
                                           order.buyer["email"], sum(line["quantity"] for line in order.lines))
            except CatalogRefused as refused:
                notes.append(f"promo code {order.promo_code} was not counted again ({refused.slug})")
    finally:
        await catalog.close()
    for note in notes:
        log.warning("late payment of order %s: %s", order.code, note)
    return notes


def stage_quantities(lines: list[dict]) -> list[tuple[uuid.UUID, int]]:
    """Units per zone, in line order: what the catalog allots stage prices for."""
    per_zone: dict[str, int] = {}
    for line in lines:
        per_zone[line["zone_id"]] = per_zone.get(line["zone_id"], 0) + line["quantity"]
    return [(uuid.UUID(zone_id), quantity) for zone_id, quantity in per_zone.items()]


def allotted_prices(allocations: list[dict]) -> Counter:
    allotted: Counter = Counter()
    for allocation in allocations:
        allotted[(allocation["zone_id"], allocation["unit_price_minor"])] += allocation["quantity"]
    return allotted


def paid_stage_prices(pricing: dict) -> Counter:
    """Units per (zone, stage price) in the quote the buyer paid: the base plus the stage's adjustment."""
    paid: Counter = Counter()
    for line in pricing["lines"]:
        paid[(line["zone_id"], line["unit_base_minor"] + line["unit_stage_adjustment_minor"])] += line["quantity"]
    return paid


def lines_on(lines: list[dict], units: list[dict]) -> list[dict]:
    """The order's lines over the units held now: the same seats as before, or for general admission the new
    units, line by line (each keeps its price), so tickets and refunds find every unit on its line."""
    if {str(u["unit_id"]) for u in units} == {unit for line in lines for unit in line["unit_ids"]}:
        return lines
    free, out = list(units), []
    for line in lines:
        taken, free = free[:line["quantity"]], free[line["quantity"]:]
        out.append(line | {"unit_ids": [str(u["unit_id"]) for u in taken], "units": [
            {"unit_id": str(u["unit_id"]), "zone_id": str(u["zone_id"]), "label": u["label"],
             "seat_id": u.get("seat_id"), "row": u.get("row"), "number": u.get("number"),
             "price_minor": line["unit_price_minor"]} for u in taken]})
    return out
