"""Resale at face value: the organizer's policy, holders' listings, the public list, and the reservation
a resale order makes (orders only)."""
from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field
from taquilla_platform.auth import Principal, bearer_token, current_principal, require_service

from ...application.resale import (
    event_resale_policy,
    list_for_resale,
    listing_for,
    listings_of_seller,
    public_listings,
    reserve_listing,
    set_event_resale_policy,
    withdraw_listing,
)
from .admin import operator
from .common import once

router = APIRouter(prefix="/api/v1/tickets", tags=["resale"])


class ResalePolicy(BaseModel):
    allowed: bool
    fee_percent: Decimal = Field(Decimal(0), ge=0, le=100, max_digits=5, decimal_places=2,
                                 description="kept from the seller's refund, percent of the resale price")
    fee_fixed_minor: int = Field(0, ge=0, le=10**9, description="kept from the seller's refund, per ticket")
    cutoff_minutes: int = Field(0, ge=0, le=60 * 24 * 365, description="resale closes this long before the start")


@router.put("/events/{event_id}/resale-policy")
async def put_policy(request: Request, event_id: uuid.UUID, body: ResalePolicy,
                     tenant_id: uuid.UUID = Depends(operator)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        policy = await set_event_resale_policy(uow.session, tenant_id, event_id, allowed=body.allowed,
                                               fee_percent=body.fee_percent, fee_fixed_minor=body.fee_fixed_minor,
                                               cutoff_minutes=body.cutoff_minutes)
        await uow.commit()
    return policy


@router.get("/events/{event_id}/resale-policy")
async def get_policy(request: Request, event_id: uuid.UUID, tenant_id: uuid.UUID = Depends(operator)) -> dict:
    async with request.app.state.db.unit_of_work(tenant_id) as uow:
        return await event_resale_policy(uow.session, event_id)


class NewListing(BaseModel):
    ticket_id: uuid.UUID
    price_minor: int = Field(ge=1, le=10**12, description="at most the ticket's face value")


@router.post("/resale/listings", status_code=201)
async def new_listing(request: Request, response: Response, body: NewListing,
                      principal: Principal = Depends(current_principal)) -> dict:
    """The holder puts a ticket on sale at no more than its face value; their code works until it is sold."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        created = await once(request, response, uow, f"{principal.user_id}:resale-listing",
                             body.model_dump(mode="json"),
                             lambda: list_for_resale(uow.session, principal, body.ticket_id, body.price_minor))
        await uow.commit()
    response.headers["Location"] = f"/api/v1/tickets/resale/listings/{created['id']}"
    return created


@router.get("/resale/listings")
async def listings(request: Request, event_id: uuid.UUID, session_id: uuid.UUID | None = None,
                   limit: int = Query(100, ge=1, le=500)) -> dict:
    """Tickets for sale by their holders, cheapest first. Public."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        return {"items": await public_listings(uow.session, event_id, session_id, limit)}


@router.get("/resale/listings/mine")
async def my_listings(request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """The signed-in seller's listings in every state, with the fee and what they receive."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        return {"items": await listings_of_seller(uow.session, principal)}


@router.get("/resale/listings/{listing_id}")
async def listing(request: Request, listing_id: uuid.UUID) -> dict:
    """One listing; its seller (signed in) also sees the fee and what they receive."""
    principal = current_principal(request) if bearer_token(request) else None
    async with request.app.state.db.unit_of_work(system=True) as uow:
        return await listing_for(uow.session, principal, listing_id)


@router.post("/resale/listings/{listing_id}/withdraw")
async def withdraw(request: Request, listing_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    """The seller takes the ticket off sale (not while someone is paying for it)."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        withdrawn = await withdraw_listing(uow.session, principal, listing_id)
        await uow.commit()
    return withdrawn


class Reservation(BaseModel):
    order_id: uuid.UUID
    buyer_user_id: uuid.UUID
    reserved_until: datetime


@router.post("/resale/listings/{listing_id}/reservations")
async def reserve(request: Request, listing_id: uuid.UUID, body: Reservation,
                  principal: Principal = Depends(current_principal)) -> dict:
    """Orders reserves the listing for a resale order until its payment deadline (Taquilla's services only)."""
    require_service(principal)
    async with request.app.state.db.unit_of_work(system=True) as uow:
        reserved = await reserve_listing(uow.session, listing_id, body.order_id, body.buyer_user_id,
                                         body.reserved_until)
        await uow.commit()
    return reserved
