"""Place an order: hold the cart's units over gRPC, have the catalog lock and quote their prices (and count
the promo code), store the order and start the saga.

The Idempotency-Key row, the order, its saga row, the first transition and `orders.order.placed` are one
transaction; the hold id is the order id. Anything that fails after the hold gives back what was taken
(the hold, the catalog's stage allocation, the promo redemption) before the error is answered.
"""
from __future__ import annotations

import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

import grpc
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.envelope import uuid7
from taquilla_contracts.orders import OrderPlaced, PaymentPlan
from taquilla_messaging import publish
from taquilla_platform.auth import Principal, Role
from taquilla_platform.idempotency import IdempotencyStore, request_fingerprint
from taquilla_platform.problems import Problem
from taquilla_platform.validation import (
    EmailAddress,
    NationalId,
    PersonName,
    PhoneNumber,
    needs_fiscal_address,
)

from ..adapters.catalog_client import CatalogClient, CatalogRefused, CatalogUnavailable
from ..adapters.inventory_client import (
    HeldUnits,
    InventoryClient,
    InventoryRefused,
    InventoryUnavailable,
    Selection,
)
from ..adapters.tables import bus, event_offers, idempotency, orders, purchase_sagas
from ..config import Settings
from ..domain.cart import (
    SEATS,
    CartLine,
    PricingMismatch,
    assign_units,
    cart_lines,
    hold_plan,
    priced_lines,
    quote_lines,
    stage_lines,
)
from ..domain.orders import OrderRuleBroken, SagaState, new_order_code
from ..domain.payment_plans import build_plan
from .queries import order_view
from .saga import record_transition

IDEMPOTENCY = IdempotencyStore(idempotency)
log = logging.getLogger("taquilla.orders.place_order")


class LineRequest(BaseModel):
    """General admission: zone_id + quantity. Numbered zone: zone_id + seat_ids (those seats), or zone_id +
    quantity (the best adjacent seats available)."""

    model_config = ConfigDict(extra="forbid")
    zone_id: uuid.UUID
    quantity: int | None = Field(default=None, ge=1, le=50)
    seat_ids: list[uuid.UUID] = Field(default_factory=list, max_length=50,
                                      description="the catalog's seat ids (or the session's unit ids)")


class BuyerRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: PersonName = Field(description="given name(s); may carry the surname too when `surname` is left out")
    surname: PersonName | None = Field(default=None, validate_default=True)
    email: EmailAddress
    phone: PhoneNumber | None = Field(default=None, description="E.164 or a Venezuelan/Colombian national form")
    national_id: NationalId | None = Field(default=None, description="V-/E- cédula, RIF, CC or NIT with check digit")
    address: str | None = Field(default=None, min_length=5, max_length=300,
                                description="fiscal address; required with a company's RIF (J, G, C, P) or a NIT")

    @field_validator("address")
    @classmethod
    def _tidy_address(cls, address: str | None) -> str | None:
        return " ".join(address.split()) if address is not None else None

    @field_validator("surname")
    @classmethod
    def _surname_given(cls, surname: str | None, info: ValidationInfo) -> str | None:
        name = info.data.get("name")
        if surname is None and name is not None and len(name.split()) < 2:
            raise ValueError("give the buyer's surname (or name and surname in `name`)")
        return surname

    @property
    def full_name(self) -> str:
        return f"{self.name} {self.surname}" if self.surname else self.name


class PaymentPlanRequest(BaseModel):
    """Pay in parts, where the organizer allows it: a deposit now (the first payment), the rest later."""

    model_config = ConfigDict(extra="forbid")
    kind: Literal["installments", "flexible"]
    installments: int | None = Field(default=None, ge=2, le=12,
                                     description="installments: how many, the deposit included (default: the most "
                                                 "the organizer allows)")
    deposit_minor: int | None = Field(default=None, ge=1, description="the first payment (default: the smallest "
                                      "allowed, or an equal share for installments)")


class PlaceOrderRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    event_id: uuid.UUID
    session_id: uuid.UUID
    lines: list[LineRequest] = Field(min_length=1, max_length=20)
    promo_code: str | None = Field(default=None, min_length=1, max_length=40)
    buyer: BuyerRequest
    payment_plan: PaymentPlanRequest | None = Field(default=None, description="leave out to pay at once")


def _problem(rule: OrderRuleBroken) -> Problem:
    return Problem(rule.status, rule.slug, rule.detail or rule.slug.replace("-", " ").capitalize(), rule.detail,
                   field=rule.field)


CATALOG_DOWN = Problem(503, "catalog-unavailable", "Prices cannot be confirmed right now", "Try again in a moment",
                       headers={"Retry-After": "2"})


@dataclass
class Taken:
    """What this attempt has taken so far, to give back if it does not end in a stored order."""

    inventory: InventoryClient
    catalog: CatalogClient
    token: str
    tenant_id: uuid.UUID
    event_id: uuid.UUID
    order_id: uuid.UUID
    stages: bool = False
    promo_code: str | None = None
    released: list[str] = field(default_factory=list)

    async def give_back(self) -> None:
        with contextlib.suppress(Exception):
            await self.inventory.release(hold_id=self.order_id, tenant_id=self.tenant_id, reason="order_failed")
            self.released.append("hold")
        if self.stages:
            try:
                await self.catalog.release_stages(self.token, self.event_id, self.order_id)
                self.released.append("stages")
            except Exception:  # the hold's expiry releases them in the catalog too
                log.warning("stage allocation of %s not released now", self.order_id, exc_info=True)
        if self.promo_code:
            try:
                await self.catalog.cancel_promo(self.token, self.event_id, self.promo_code, str(self.order_id))
                self.released.append("promo")
            except Exception:
                log.error("promo redemption %s/%s not cancelled", self.promo_code, self.order_id, exc_info=True)


async def place_order(db, inventory: InventoryClient, catalog: CatalogClient, settings: Settings,
                      principal: Principal, token: str, request: PlaceOrderRequest,
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
            session_starts_at = _session_start(offer, request.session_id)
            check_buyer(settings, offer.tenant_id, request.buyer)
            lines = cart_lines(request.lines, {z["zone_id"]: z for z in offer.zones}, offer.max_tickets_per_order)
            plan = hold_plan(lines)
        except OrderRuleBroken as rule:
            raise _problem(rule) from None
        order_id = uuid7()
        taken = Taken(inventory, catalog, token, offer.tenant_id, offer.event_id, order_id)
        held = await _hold(taken, request.session_id, principal.user_id, offer.hold_ttl_seconds, plan, lines)
        try:
            body = await _price_and_store(uow, taken, offer, request, session_starts_at, lines, held, principal)
            await IDEMPOTENCY.complete(uow.session, scope, idempotency_key, 201, body)
            await uow.commit()
        except BaseException:
            await taken.give_back()
            raise
    return 201, body, False


def check_buyer(settings: Settings, tenant_id: uuid.UUID, buyer: BuyerRequest) -> None:
    """What the organizer and the invoice need to know about the buyer."""
    if settings.buyer.requires_national_id(tenant_id) and not buyer.national_id:
        raise OrderRuleBroken("national-id-required", "The organizer asks for the buyer's national id",
                              "buyer.national_id")
    if needs_fiscal_address(buyer.national_id) and not buyer.address:
        raise OrderRuleBroken("fiscal-address-required", "Give the buyer's fiscal address: an invoice to a "
                              "company (a RIF J, G, C or P, or a NIT) must carry it", "buyer.address")


def buyer_record(principal: Principal, request: BuyerRequest) -> tuple[Buyer, dict]:
    """The buyer as messages carry them, and as the order keeps them."""
    buyer = Buyer(user_id=principal.user_id, email=request.email, name=request.full_name,
                  national_id=request.national_id, address=request.address)
    return buyer, {**buyer.model_dump(mode="json"), "given_name": request.name, "surname": request.surname,
                   "phone": request.phone}


def sales_channel(principal: Principal) -> dict:
    """Who sold it, for the sales reports: an API key, the organizer's staff at a box office, or the buyer."""
    if principal.kind == "api_key":
        return {"channel": "api", "placed_by": principal.user_id, "placed_by_email": principal.email or None}
    if principal.has_any(*Role.STAFF):
        return {"channel": "cashier", "placed_by": principal.user_id, "placed_by_email": principal.email or None}
    return {"channel": "online", "placed_by": None, "placed_by_email": None}


def _session_start(offer, session_id: uuid.UUID) -> datetime:
    session = next((s for s in offer.sessions if s["session_id"] == str(session_id)), None)
    if session is None:
        raise OrderRuleBroken("unknown-session", f"The event has no session {session_id}", "session_id")
    return datetime.fromisoformat(session["starts_at"])


async def _hold(taken: Taken, session_id: uuid.UUID, buyer_id: uuid.UUID, ttl: int, plan,
                lines: list[CartLine]) -> HeldUnits:
    selection = Selection(plan.selection, plan.zone_id, plan.quantity, plan.seat_ids)
    for attempt in (1, 2):  # the same hold id: a retry after a lost answer returns the same units
        try:
            return await taken.inventory.hold(hold_id=taken.order_id, tenant_id=taken.tenant_id,
                                               session_id=session_id, buyer_id=buyer_id, ttl_seconds=ttl,
                                               selection=selection)
        except InventoryRefused as refused:
            if refused.reason == "seat_taken":  # reported by label: find the seat ids the buyer sent
                labels = [s for s in refused.details.get("taquilla-seats", "").split(",") if s]
                named = await taken.inventory.seats_named(tenant_id=taken.tenant_id, session_id=session_id,
                                                          labels=labels)
                refused.details["taquilla-seats"] = ",".join(named)
            raise _problem(_hold_refusal(refused, lines)) from None
        except InventoryUnavailable as exc:
            if attempt == 2:
                await taken.give_back()  # the lost answer may have held units
                raise Problem(503, "inventory-unavailable", "Tickets cannot be held right now",
                              "Try again in a moment", headers={"Retry-After": "1"}) from exc
    raise AssertionError("unreachable")


def _hold_refusal(refused: InventoryRefused, lines: list[CartLine]) -> OrderRuleBroken:
    code, reason, detail = refused.code, refused.reason, refused.detail
    last = lines[-1]
    quantity_field = f"lines.{last.index}.{'seat_ids' if last.selection == SEATS else 'quantity'}"
    seats = [s for s in refused.details.get("taquilla-seats", "").split(",") if s]
    if reason == "limit_exceeded":
        return OrderRuleBroken("limit-exceeded", detail, quantity_field, 422)
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return OrderRuleBroken("sold-out", detail or "Not enough tickets left", quantity_field, 409)
    if reason == "seat_taken":
        return OrderRuleBroken("seat-taken", detail or "A seat was taken", _seat_field(lines, seats) or "lines", 409)
    if reason == "unknown_seat":
        return OrderRuleBroken("unknown-seat", detail, _seat_field(lines, seats) or "lines", 422)
    if reason == "unknown_session":
        return OrderRuleBroken("unknown-session", detail, "session_id", 422)
    if code == grpc.StatusCode.NOT_FOUND:
        return OrderRuleBroken("unknown-zone", detail, f"lines.{lines[0].index}.zone_id", 422)
    if code == grpc.StatusCode.FAILED_PRECONDITION:
        return OrderRuleBroken("not-on-sale", detail or "This event is not on sale", "event_id", 409)
    return OrderRuleBroken("invalid-hold", detail, "lines", 422)


def _seat_field(lines: list[CartLine], seats: list[str]) -> str | None:
    """The first named seat (id or label, as inventory reports it) in the request's lines."""
    for line in lines:
        for j, seat in enumerate(line.seat_ids):
            if str(seat) in seats:
                return f"lines.{line.index}.seat_ids.{j}"
    return None


def _catalog_refusal(refused: CatalogRefused, lines: list[CartLine], step: str) -> Problem:
    field = refused.field
    if step == "stages" and field and field.startswith("lines."):  # allocation lines are per zone
        field = f"lines.{lines[-1].index}.quantity"
    if step == "promo":
        field = "promo_code"
    if refused.status == 404:
        return Problem(409, "not-on-sale", "This event is not on sale", refused.problem.get("detail"),
                       field="event_id")
    status = refused.status if refused.status in (409, 422) else 502
    return Problem(status, refused.slug, refused.problem.get("title", "The catalog refused the order"),
                   refused.problem.get("detail"), field=field or "lines")


async def _price_and_store(uow, taken: Taken, offer, request: PlaceOrderRequest, session_starts_at: datetime,
                           lines: list[CartLine], held: HeldUnits, principal: Principal) -> dict:
    catalog, token, order_id = taken.catalog, taken.token, taken.order_id
    step = "hold"
    try:
        assign_units(lines, held.units)
        step = "stages"
        taken.stages = True  # a timed-out call may have allocated
        await catalog.allocate_stages(token, offer.event_id, order_id, request.session_id, stage_lines(lines))
        step = "quote"
        quote = await catalog.quote(token, offer.event_id, {
            "session_id": str(request.session_id), "hold_id": str(order_id), "lines": quote_lines(lines),
            "promo_code": request.promo_code, "buyer_email": request.buyer.email})
        promo = quote.get("promo")
        if request.promo_code and not (promo and promo.get("applied")):
            raise OrderRuleBroken("promo-code-not-applicable",
                                  (promo or {}).get("detail") or "The promo code does not apply", "promo_code")
        priced = priced_lines(lines, quote["lines"])
        total = quote["totals"]["total_minor"]
        if sum(li["quantity"] * li["unit_price_minor"] for li in priced) != total:
            raise PricingMismatch("the lines do not add up to the quote's total")
        if request.promo_code:
            step = "promo"
            taken.promo_code = promo["code"]
            await catalog.redeem_promo(token, offer.event_id, promo["code"], str(order_id), request.buyer.email,
                                       sum(li["quantity"] for li in priced))
    except OrderRuleBroken as rule:
        raise _problem(rule) from None
    except CatalogUnavailable as exc:
        raise CATALOG_DOWN from exc
    except CatalogRefused as refused:
        raise _catalog_refusal(refused, lines, step) from None
    except PricingMismatch as exc:
        log.error("order %s: %s", order_id, exc)
        raise Problem(502, "pricing-mismatch", "The prices could not be matched to the tickets held",
                      "Try again in a moment", headers={"Retry-After": "2"}) from exc

    buyer, buyer_row = buyer_record(principal, request.buyer)
    currency = quote.get("currency") or offer.currency
    plan = None
    if request.payment_plan is not None:
        asked = request.payment_plan
        try:
            plan = build_plan(kind=asked.kind, rules=offer.payment_plans, total_minor=total, now=datetime.now(UTC),
                              first_due_at=held.expires_at, installments=asked.installments,
                              deposit_minor=asked.deposit_minor)
        except OrderRuleBroken as rule:
            raise _problem(rule) from None
    row = {
        "id": order_id, "tenant_id": offer.tenant_id, "code": new_order_code(), "event_id": offer.event_id,
        "event_title": offer.title, "session_id": request.session_id, "session_starts_at": session_starts_at,
        "buyer_user_id": principal.user_id,
        "buyer": buyer_row,
        "lines": priced, "total_minor": total, "currency": currency, "hold_id": held.hold_id,
        "hold_expires_at": held.expires_at, "promo_code": taken.promo_code,
        "pricing": {"lines": quote["lines"], "totals": quote["totals"], "promo": promo,
                    "rounding": quote.get("rounding"), "quoted_at": quote.get("quoted_at")},
        "hold_extensions": 0, "created_at": datetime.now(UTC), **sales_channel(principal), "plan": plan,
    }
    return await start_saga(uow, row, buyer, "orders.place_order")


async def start_saga(uow, row: dict, buyer: Buyer, cause: str) -> dict:
    """Store the order awaiting payment with its saga row and first transition, and announce it."""
    tenant_id, order_id = row["tenant_id"], row["id"]
    await uow.session.execute(orders.insert().values(**row))
    await uow.session.execute(purchase_sagas.insert().values(
        order_id=order_id, tenant_id=tenant_id, state=SagaState.AWAITING_PAYMENT))
    await record_transition(uow, tenant_id, order_id, None, SagaState.AWAITING_PAYMENT, cause)
    placed = OrderPlaced(
        order_id=order_id, code=row["code"], event_id=row["event_id"], session_id=row["session_id"], buyer=buyer,
        lines=[OrderLine(zone_id=li["zone_id"], zone_name=li["zone_name"], quantity=li["quantity"],
                         unit_price_minor=li["unit_price_minor"], seat_labels=li["seat_labels"]) for li in row["lines"]],
        total_minor=row["total_minor"], currency=row["currency"], hold_expires_at=row["hold_expires_at"],
        payment_plan=PaymentPlan.model_validate(row["plan"]) if row.get("plan") else None)
    await publish(uow.session, bus, Envelope.wrap(placed, source="orders", tenant_id=tenant_id,
                                                  correlation_id=str(order_id)))
    return order_view(row, SagaState.AWAITING_PAYMENT, [])
