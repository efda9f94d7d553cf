"""Prices of an event: sale stages and their allotments, promo codes and redemptions, the quote, history."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from taquilla_platform.auth import Principal, Role, current_principal, require_service
from taquilla_platform.problems import not_found

from ...adapters.tables import promo_codes, zones
from ...application.promo_codes import cancel_redemption, create_promo_code, promo_view, redeem
from ...application.queries import find_event_row, find_organizer, find_own_event
from ...application.quote import QuoteLineRequest, quote
from ...application.stages import (
    allocate,
    change_stage,
    create_stage,
    event_stages,
    price_history,
    release_hold,
    stage_audit,
    stage_view,
)
from ...application.zones import block_seats, change_zone
from ...domain.errors import OrganizerNotActive
from ...domain.events import EventStatus
from .problems import domain_errors_as_problems
from .routes import optional_principal, staff_tenant
from .schemas import (
    AllocationRequest,
    PromoCodeRequest,
    QuoteRequest,
    RedemptionRequest,
    SeatBlockRequest,
    StageChangeRequest,
    StageRequest,
    ZoneChangeRequest,
)

router = APIRouter(prefix="/api/v1/events", tags=["prices"])


async def _own(uow, tenant_id: uuid.UUID, reference: str):
    event = await find_own_event(uow.session, tenant_id, reference)
    if event is None:
        raise not_found("Event", reference)
    return event


async def _selling(uow, reference: str, principal: Principal | None, statuses=EventStatus.PUBLIC, *,
                   purchase_step: bool = False, compensation: bool = False):
    """A public event (any organizer), or the caller's own in any status; the transaction narrows to its tenant.
    A suspended organizer's events are not public: a 404, or for a step of a purchase (allocating stage
    prices, redeeming a code) a 409 organizer-not-active; undoing such a step (`compensation`) still works."""
    if principal is not None and principal.tenant_id is not None and principal.has_any(*Role.STAFF):
        await uow.set_tenant(principal.tenant_id)
        own = await find_own_event(uow.session, principal.tenant_id, reference)
        if own is not None:
            return own
    await uow.set_tenant("system")
    with domain_errors_as_problems():
        event = await find_event_row(uow.session, reference, statuses=statuses,
                                     listed=None if compensation else True)
        if event is None and purchase_step:
            hidden = await find_event_row(uow.session, reference, statuses=statuses, listed=False)
            if hidden is not None:
                organizer = await find_organizer(uow.session, hidden.tenant_id)
                raise OrganizerNotActive(organizer.status)
    if event is None:
        raise not_found("Event", reference)
    await uow.set_tenant(event.tenant_id)
    return event


@router.get("/{id_or_slug}/stages")
async def list_stages(request: Request, id_or_slug: str,
                      staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        event = await _own(uow, tenant_id, id_or_slug)
        rows = await event_stages(uow.session, event.id)
        return {"items": [stage_view(r) for r in sorted(rows, key=lambda r: (r.priority, str(r.zone_id)))],
                "transitions": await stage_audit(uow.session, event.id)}


@router.post("/{id_or_slug}/stages", status_code=201)
async def add_stage(request: Request, id_or_slug: str, body: StageRequest,
                    staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    """A sale stage (early bird, presale, general…) ending by date, by quantity, or whichever comes first."""
    tenant_id, principal = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            stage = await create_stage(uow.session, tenant_id, id_or_slug, body.to_values(),
                                       changed_by=principal.user_id)
        await uow.commit()
    return stage


@router.patch("/{id_or_slug}/stages/{stage_id}")
async def edit_stage(request: Request, id_or_slug: str, stage_id: uuid.UUID, body: StageChangeRequest,
                     staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, principal = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        with domain_errors_as_problems():
            stage = await change_stage(uow.session, tenant_id, id_or_slug, stage_id, body.changes(),
                                       changed_by=principal.user_id, now=datetime.now(UTC))
        await uow.commit()
    return stage


@router.post("/{id_or_slug}/stage-allocations", status_code=201)
async def allocate_stage_units(request: Request, id_or_slug: str, body: AllocationRequest,
                               principal: Principal = Depends(current_principal)) -> JSONResponse:
    """Lock stage prices for a hold's units (orders calls this right after Inventory.Hold); idempotent per hold."""
    require_service(principal)  # orders takes these steps for a purchase; nobody else
    async with request.app.state.db.unit_of_work(system=True) as uow:
        event = await _selling(uow, id_or_slug, principal, statuses=frozenset({EventStatus.ON_SALE}),
                               purchase_step=True)
        with domain_errors_as_problems():
            allocations = await allocate(uow.session, event.tenant_id, event, body.hold_id, body.session_id,
                                         [(li.zone_id, li.quantity) for li in body.lines], datetime.now(UTC))
        await uow.commit()
    return JSONResponse({"hold_id": str(body.hold_id), "allocations": allocations,
                         "total_minor": sum(a["quantity"] * a["unit_price_minor"] for a in allocations)},
                        status_code=201)


@router.delete("/{id_or_slug}/stage-allocations/{hold_id}")
async def release_stage_units(request: Request, id_or_slug: str, hold_id: uuid.UUID,
                              principal: Principal = Depends(current_principal)) -> dict:
    require_service(principal)  # orders takes these steps for a purchase; nobody else
    async with request.app.state.db.unit_of_work(system=True) as uow:
        event = await _selling(uow, id_or_slug, principal, statuses=frozenset(EventStatus.NEXT),
                               compensation=True)
        released = await release_hold(uow.session, event.tenant_id, hold_id, datetime.now(UTC))
        await uow.commit()
    return {"hold_id": str(hold_id), "released": released}


@router.post("/{id_or_slug}/quote")
async def price_quote(request: Request, id_or_slug: str, body: QuoteRequest,
                      principal: Principal | None = Depends(optional_principal)) -> dict:
    """Line-by-line prices of the units asked for: base, stage, row, group, promo, fees and taxes apart."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        event = await _selling(uow, id_or_slug, principal)
        with domain_errors_as_problems():
            return await quote(uow.session, event, [QuoteLineRequest(li.zone_id, li.quantity, tuple(li.seat_ids))
                                                    for li in body.lines],
                               now=datetime.now(UTC), promo_code=body.promo_code, buyer=body.buyer_email,
                               hold_id=body.hold_id, session_id=body.session_id)


@router.post("/{id_or_slug}/promo-codes", status_code=201)
async def add_promo_code(request: Request, id_or_slug: str, body: PromoCodeRequest,
                         staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        event = await _own(uow, tenant_id, id_or_slug)
        zone_ids = set((await uow.session.execute(zones.select().with_only_columns(zones.c.id)
                                                  .where(zones.c.event_id == event.id))).scalars().all())
        with domain_errors_as_problems():
            created = await create_promo_code(uow.session, tenant_id, event, body.to_values(), zone_ids)
        await uow.commit()
    return created


@router.get("/{id_or_slug}/promo-codes")
async def list_promo_codes(request: Request, id_or_slug: str,
                           staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        event = await _own(uow, tenant_id, id_or_slug)
        rows = (await uow.session.execute(promo_codes.select().where(promo_codes.c.event_id == event.id)
                                          .order_by(promo_codes.c.code))).all()
    return {"items": [promo_view(r) for r in rows]}


@router.post("/{id_or_slug}/promo-codes/{code}/redemptions", status_code=201)
async def redeem_promo_code(request: Request, id_or_slug: str, code: str, body: RedemptionRequest,
                            principal: Principal = Depends(current_principal)) -> JSONResponse:
    """Count one use of a code for an order (orders calls this when the order is placed). A repeat for the
    same reference returns the first answer with 200; a limit reached is a 409."""
    require_service(principal)  # orders takes these steps for a purchase; nobody else
    async with request.app.state.db.unit_of_work(system=True) as uow:
        event = await _selling(uow, id_or_slug, principal, statuses=frozenset({EventStatus.ON_SALE}),
                               purchase_step=True)
        with domain_errors_as_problems():
            redemption, created = await redeem(uow.session, event.tenant_id, event, code, reference=body.reference,
                                               buyer=body.buyer_email, quantity=body.quantity, now=datetime.now(UTC))
        await uow.commit()
    return JSONResponse(redemption, status_code=201 if created else 200)


@router.delete("/{id_or_slug}/promo-codes/{code}/redemptions/{reference}")
async def cancel_promo_redemption(request: Request, id_or_slug: str, code: str, reference: str,
                                  principal: Principal = Depends(current_principal)) -> dict:
    require_service(principal)  # orders takes these steps for a purchase; nobody else
    async with request.app.state.db.unit_of_work(system=True) as uow:
        event = await _selling(uow, id_or_slug, principal, statuses=frozenset(EventStatus.NEXT),
                               compensation=True)
        cancelled = await cancel_redemption(uow.session, event, code, reference)
        await uow.commit()
    if not cancelled:
        raise not_found("Redemption", reference)
    return {"reference": reference, "status": "cancelled"}


@router.patch("/{id_or_slug}/zones/{zone_id}")
async def change_zone_prices(request: Request, id_or_slug: str, zone_id: uuid.UUID, body: ZoneChangeRequest,
                             staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    """Change a zone's base price, row adjustments or visibility; every change goes to the price history."""
    tenant_id, principal = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        event = await _own(uow, tenant_id, id_or_slug)
        with domain_errors_as_problems():
            zone = await change_zone(uow.session, tenant_id, event, zone_id, body.model_dump(exclude_unset=True),
                                     changed_by=principal.user_id)
        await uow.commit()
    return zone


@router.post("/{id_or_slug}/zones/{zone_id}/blocked-seats")
async def set_blocked_seats(request: Request, id_or_slug: str, zone_id: uuid.UUID, body: SeatBlockRequest,
                            staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    """Keep seats off sale (camera platforms, guests) or give them back; inventory hears the new seat map."""
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        event = await find_own_event(uow.session, tenant_id, id_or_slug, for_update=True)
        if event is None:
            raise not_found("Event", id_or_slug)
        with domain_errors_as_problems():
            zone = await block_seats(uow.session, tenant_id, event, zone_id, body.labels, body.blocked)
        await uow.commit()
    return zone


@router.get("/{id_or_slug}/price-history")
async def get_price_history(request: Request, id_or_slug: str,
                            staff: tuple[uuid.UUID, Principal] = Depends(staff_tenant)) -> dict:
    tenant_id, _ = staff
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        event = await _own(uow, tenant_id, id_or_slug)
        return {"items": await price_history(uow.session, event.id)}

