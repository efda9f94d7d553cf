"""Place an order: price it from our copy of the catalog, hold the units over gRPC, start the saga.

The Idempotency-Key row, the order, its saga row, the first transition and `orders.order.placed`
are one transaction; the hold id is the order id, so a retried hold returns the same units.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.orders import OrderPlaced
from taquilla_messaging import publish
from taquilla_platform.auth import Principal
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint
from taquilla_platform.problems import Problem
from taquilla_platform.validation import EmailAddress

from ..adapters.inventory_client import InventoryClient, InventoryUnavailable
from ..adapters.tables import bus, event_offers, idempotency, orders, purchase_sagas
from ..domain.orders import OrderRuleBroken, SagaState, new_order_code
from .queries import order_view
from .saga import record_transition

IDEMPOTENCY = IdempotencyStore(idempotency)


class LineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    zone_id: uuid.UUID
    quantity: int = Field(ge=1, le=50)


class BuyerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=120)
    email: EmailAddress
    phone: str | None = Field(default=None, max_length=30)


class PlaceOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: uuid.UUID
    session_id: uuid.UUID
    lines: list[LineRequest] = Field(min_length=1, max_length=1)  # one zone per order for now
    buyer: BuyerRequest


def _problem(rule: OrderRuleBroken) -> Problem:
    return Problem(rule.status, rule.slug, rule.detail or rule.slug.replace("-", " ").capitalize(), rule.detail,
                   field=rule.field)


async def place_order(db, inventory: InventoryClient, principal: Principal, request: PlaceOrderRequest,
                      idempotency_key: str) -> tuple[int, dict, bool]:
    """Returns (status, body, replayed)."""
    scope = f"{principal.user_id}:POST /orders"
    fingerprint = request_fingerprint(request.model_dump(mode="json"))
    async with db.unit_of_work(system=True) as uow:
        offer = (await uow.session.execute(
            select(event_offers).where(event_offers.c.event_id == request.event_id))).first()
        if offer is None:
            raise Problem(422, "unknown-event", "This event is not on sale", f"No event {request.event_id} on sale",
                          field="event_id")
        await uow.set_tenant(offer.tenant_id)
        stored = await IDEMPOTENCY.claim(uow.session, scope, idempotency_key, fingerprint)
        if stored is not None:
            return stored.status_code, stored.body, True
        try:
            session_starts_at, lines = _price(offer, request)
        except OrderRuleBroken as rule:
            raise _problem(rule) from None
        order_id = uuid7()
        line = lines[0]
        try:
            held = await inventory.hold_general(
                hold_id=order_id, tenant_id=offer.tenant_id, session_id=request.session_id, zone_id=line.zone_id,
                quantity=line.quantity, buyer_id=principal.user_id, ttl_seconds=offer.hold_ttl_seconds)
        except OrderRuleBroken as rule:
            raise _problem(rule) from None
        except InventoryUnavailable as exc:
            raise Problem(503, "inventory-unavailable", "Tickets cannot be held right now",
                          "Try again in a moment", headers={"Retry-After": "1"}) from exc
        buyer = Buyer(user_id=principal.user_id, email=request.buyer.email, name=request.buyer.name)
        total = sum(li.quantity * li.unit_price_minor for li in lines)
        row = {
            "id": order_id, "tenant_id": offer.tenant_id, "code": new_order_code(), "event_id": offer.event_id,
            "event_title": offer.title, "session_id": request.session_id, "session_starts_at": session_starts_at,
            "buyer_user_id": principal.user_id,
            "buyer": {**buyer.model_dump(mode="json"), "phone": request.buyer.phone},
            "lines": [li.model_dump(mode="json") for li in lines], "total_minor": total,
            "currency": offer.currency, "hold_id": held.hold_id, "hold_expires_at": held.expires_at,
            "created_at": datetime.now(UTC),
        }
        await uow.session.execute(orders.insert().values(**row))
        await uow.session.execute(purchase_sagas.insert().values(
            order_id=order_id, tenant_id=offer.tenant_id, state=SagaState.AWAITING_PAYMENT))
        await record_transition(uow, offer.tenant_id, order_id, None, SagaState.AWAITING_PAYMENT, "orders.place_order")
        placed = OrderPlaced(order_id=order_id, code=row["code"], event_id=offer.event_id,
                             session_id=request.session_id, buyer=buyer, lines=lines, total_minor=total,
                             currency=offer.currency, hold_expires_at=held.expires_at)
        await publish(uow.session, bus, Envelope.wrap(placed, source="orders", tenant_id=offer.tenant_id,
                                                      correlation_id=str(order_id)))
        body = order_view(row, SagaState.AWAITING_PAYMENT, [])
        await IDEMPOTENCY.complete(uow.session, scope, idempotency_key, 201, body)
        await uow.commit()
    return 201, body, False


def _price(offer, request: PlaceOrderRequest) -> tuple[datetime, list[OrderLine]]:
    session = next((s for s in offer.sessions if s["session_id"] == str(request.session_id)), None)
    if session is None:
        raise OrderRuleBroken("unknown-session", f"The event has no session {request.session_id}", "session_id")
    zones = {z["zone_id"]: z for z in offer.zones}
    lines = []
    for i, line in enumerate(request.lines):
        zone = zones.get(str(line.zone_id))
        if zone is None:
            raise OrderRuleBroken("unknown-zone", f"The event has no zone {line.zone_id}", f"lines.{i}.zone_id")
        if zone["kind"] != "general":
            raise OrderRuleBroken("seat-selection-required", "Numbered zones need seats chosen",
                                  f"lines.{i}.zone_id")
        lines.append(OrderLine(zone_id=line.zone_id, zone_name=zone["name"], quantity=line.quantity,
                               unit_price_minor=zone["price_minor"]))
    if sum(li.quantity for li in lines) > offer.max_tickets_per_order:
        raise OrderRuleBroken("limit-exceeded", f"At most {offer.max_tickets_per_order} tickets per order",
                              "lines.0.quantity")
    return datetime.fromisoformat(session["starts_at"]), lines
