"""Resale orders: a buyer buys a ticket another holder listed, through the purchase saga.

The unit is already sold, so there is no inventory hold: the tickets service reserves the listing for the
order until its payment deadline (`resale.reservation_seconds`), and orders' own timer
(`orders.expire_resale_order`, an outbox row due at the deadline) cancels the order if it is still unpaid.
Once paid the saga runs as for any order, with one step changed: instead of confirming a hold,
`tickets.confirm_resale` sells the listing and voids the seller's ticket ("resold"). Then fiscal invoices
the buyer, tickets issues the unit to them, and the seller is refunded the price minus the organizer's fee
through the payment of the order that bought the ticket (a refund of an amount, with its credit note).
Expiry, a failed payment or a cancellation puts the listing back on sale (`tickets.release_listing`).
"""
from __future__ import annotations

import contextlib
import uuid
from datetime import UTC, datetime, timedelta

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.orders import ExpireResaleOrder
from taquilla_contracts.tickets import ReleaseListing
from taquilla_messaging import publish
from taquilla_platform.auth import Principal
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint
from taquilla_platform.problems import Problem

from ..adapters.tables import bus, idempotency, orders, purchase_sagas
from ..adapters.tickets_client import TicketsClient, TicketsRefused, TicketsUnavailable
from ..config import Settings
from ..domain.orders import OrderRuleBroken, SagaState, new_order_code
from .place_order import BuyerRequest, buyer_record, check_buyer, sales_channel, start_saga
from .refunds import inventory_hold_of, refunded_ticket_ids

IDEMPOTENCY = IdempotencyStore(idempotency)


class ResaleOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    listing_id: uuid.UUID
    buyer: BuyerRequest


def _refusal(refused: TicketsRefused) -> Problem:
    if refused.status == 404:
        return Problem(404, "not-found", "Listing not found", refused.problem.get("detail"), field="listing_id")
    status = refused.status if refused.status in (409, 422) else 502
    return Problem(status, refused.slug, refused.problem.get("title", "The listing cannot be bought"),
                   refused.problem.get("detail"), field=refused.field or "listing_id")


async def place_resale_order(db, tickets: TicketsClient, settings: Settings, principal: Principal, token: str,
                             request: ResaleOrderRequest, idempotency_key: str) -> tuple[int, dict, bool]:
    """Returns (status, body, replayed)."""
    scope = f"{principal.user_id}:POST /orders/resale"
    fingerprint = request_fingerprint(request.model_dump(mode="json"))
    async with db.unit_of_work(system=True) as uow:
        stored = await IDEMPOTENCY.claim(uow.session, scope, idempotency_key, fingerprint)
        if stored is not None:
            return stored.status_code, stored.body, True
        order_id = uuid7()
        deadline = (datetime.now(UTC) + timedelta(seconds=settings.resale.reservation_seconds)).replace(microsecond=0)
        try:
            listing = await tickets.reserve_listing(token, request.listing_id, order_id, principal.user_id, deadline)
        except TicketsUnavailable as exc:
            raise Problem(503, "tickets-unavailable", "The listing cannot be reserved right now",
                          "Try again in a moment", headers={"Retry-After": "2"}) from exc
        except TicketsRefused as refused:
            raise _refusal(refused) from None
        tenant_id = uuid.UUID(listing["tenant_id"])
        try:
            await uow.set_tenant(tenant_id)
            check_buyer(settings, tenant_id, request.buyer)
            seller = await _seller_order(uow.session, listing)
            body = await _store(uow, principal, request, listing, order_id, deadline, seller)
            await IDEMPOTENCY.complete(uow.session, scope, idempotency_key, 201, body)
            await uow.commit()
        except BaseException as failure:
            await _give_back(db, tenant_id, listing, order_id)
            if isinstance(failure, OrderRuleBroken):
                raise Problem(failure.status, failure.slug, failure.detail, failure.detail,
                              field=failure.field) from None
            raise
    return 201, body, False


async def _seller_order(session, listing: dict):
    """The completed order that bought the listed ticket, locked (serialized with its refunds and the saga),
    if its seller keeps the ticket: one being refunded is not for sale."""
    seller_order_id = uuid.UUID(listing["seller_order_id"])
    state = (await session.execute(select(purchase_sagas.c.state).where(
        purchase_sagas.c.order_id == seller_order_id).with_for_update())).scalar_one_or_none()
    seller = (await session.execute(select(orders).where(orders.c.id == seller_order_id))).first()
    if state != SagaState.COMPLETED.value or seller is None or not seller.payment:
        raise OrderRuleBroken("listing-not-available", "This ticket cannot be bought on resale: the order that "
                              "bought it cannot refund its seller", "listing_id", 409)
    if listing["ticket_id"] in await refunded_ticket_ids(session, seller_order_id):
        raise OrderRuleBroken("listing-not-available", "This ticket is no longer for sale", "listing_id", 409)
    return seller


async def _give_back(db, tenant_id: uuid.UUID, listing: dict, order_id: uuid.UUID) -> None:
    """The order was not stored: its reservation is released (else it lapses at its deadline)."""
    with contextlib.suppress(Exception):
        async with db.unit_of_work(tenant_id) as uow:
            release = ReleaseListing(listing_id=listing["id"], order_id=order_id, reason="order_failed")
            await publish(uow.session, bus, Envelope.wrap(release, source="orders", tenant_id=tenant_id,
                                                          correlation_id=str(order_id)))
            await uow.commit()


async def _store(uow, principal: Principal, request: ResaleOrderRequest, listing: dict, order_id: uuid.UUID,
                 deadline: datetime, seller) -> dict:
    unit = listing["unit"]
    price = listing["price_minor"]
    buyer, buyer_row = buyer_record(principal, request.buyer)
    line = {"zone_id": unit["zone_id"], "zone_name": listing["zone_name"], "quantity": 1, "unit_price_minor": price,
            "unit_ids": [unit["unit_id"]], "seat_labels": [unit["label"]], "resale_listing_id": listing["id"]}
    row = {
        "id": order_id, "tenant_id": uuid.UUID(listing["tenant_id"]), "code": new_order_code(),
        "event_id": uuid.UUID(listing["event_id"]), "event_title": listing["event_title"],
        "session_id": uuid.UUID(listing["session_id"]),
        "session_starts_at": datetime.fromisoformat(listing["session_starts_at"]),
        "buyer_user_id": principal.user_id, "buyer": buyer_row, "lines": [line], "total_minor": price,
        "currency": listing["currency"], "hold_id": order_id, "hold_expires_at": deadline, "hold_extensions": 0,
        "units": [unit], "created_at": datetime.now(UTC), **sales_channel(principal),
        "resale": {"listing_id": listing["id"], "ticket_id": listing["ticket_id"],
                   "seller_order_id": listing["seller_order_id"], "face_value_minor": listing["face_value_minor"],
                   "fee_minor": listing["fee_minor"], "seller_refund_minor": price - listing["fee_minor"],
                   "inventory_hold": inventory_hold_of(seller)},
    }
    view = await start_saga(uow, row, buyer, "orders.place_resale_order")
    expire = ExpireResaleOrder(order_id=order_id)  # a durable timer: delivered at the deadline
    await publish(uow.session, bus, Envelope.wrap(expire, source="orders", tenant_id=row["tenant_id"],
                                                  correlation_id=str(order_id)), available_at=deadline)
    return view
