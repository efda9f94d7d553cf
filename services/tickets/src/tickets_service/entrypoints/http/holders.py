"""What a holder does with a ticket: transfer it, accept one, download it as PDF or wallet pass."""
from __future__ import annotations

import re
import uuid

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import select
from taquilla_platform.auth import Principal, current_principal
from taquilla_platform.problems import not_found

from ...adapters.tables import signing_keys, tickets
from ...adapters.ticket_documents import ticket_pdf, wallet_pass
from ...application.organizers import organizer
from ...application.queries import may_see
from ...application.transfers import (
    accept_transfer,
    cancel_transfer,
    incoming_transfers,
    offer_transfer,
    transfers_of_ticket,
)
from .common import once, vault_of

router = APIRouter(prefix="/api/v1/tickets", tags=["holders"])


EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")


class TransferOffer(BaseModel):
    to_email: str = Field(max_length=320)
    to_name: str | None = Field(None, min_length=1, max_length=200)

    @field_validator("to_email")
    @classmethod
    def _email(cls, value: str) -> str:
        value = value.strip()
        if not EMAIL.fullmatch(value):
            raise ValueError("not an email address")
        return value.lower()


@router.post("/{ticket_id}/transfers", status_code=201)
async def offer(request: Request, response: Response, ticket_id: uuid.UUID, body: TransferOffer,
                principal: Principal = Depends(current_principal)) -> dict:
    """The holder offers the ticket to someone's email; it moves when they accept."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        created = await once(request, response, uow, f"{principal.user_id}:transfer:{ticket_id}",
                             body.model_dump(mode="json"),
                             lambda: offer_transfer(uow.session, principal, ticket_id, body.to_email, body.to_name,
                                                    request.app.state.settings.transfers))
        await uow.commit()
    response.headers["Location"] = f"/api/v1/tickets/transfers/{created['id']}"
    return created


@router.get("/{ticket_id}/transfers")
async def transfer_log(request: Request, ticket_id: uuid.UUID,
                       principal: Principal = Depends(current_principal)) -> dict:
    async with request.app.state.db.unit_of_work(system=True) as uow:
        return {"items": await transfers_of_ticket(uow.session, principal, ticket_id)}


@router.get("/transfers/incoming")
async def incoming(request: Request, principal: Principal = Depends(current_principal)) -> dict:
    """Transfers waiting for the signed-in person's email."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        return {"items": await incoming_transfers(uow.session, principal)}


class Acceptance(BaseModel):
    holder_name: str | None = Field(None, min_length=1, max_length=200, description="the name to print")


@router.post("/transfers/{transfer_id}/accept")
async def accept(request: Request, transfer_id: uuid.UUID, body: Acceptance | None = None,
                 principal: Principal = Depends(current_principal)) -> dict:
    """The recipient (signed in with the invited email) takes the ticket; a new code replaces the old one."""
    async with request.app.state.db.unit_of_work(system=True) as uow:
        accepted = await accept_transfer(uow.session, principal, transfer_id, body.holder_name if body else None,
                                         vault_of(request), request.app.state.settings.transfers)
        await uow.commit()
    return accepted


@router.post("/transfers/{transfer_id}/cancel")
async def cancel(request: Request, transfer_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> dict:
    async with request.app.state.db.unit_of_work(system=True) as uow:
        cancelled = await cancel_transfer(uow.session, principal, transfer_id)
        await uow.commit()
    return cancelled


async def _ticket_and_organizer(request: Request, ticket_id: uuid.UUID, principal: Principal):
    async with request.app.state.db.unit_of_work(system=True) as uow:
        row = (await uow.session.execute(
            select(tickets, signing_keys.c.kid).join(signing_keys, signing_keys.c.id == tickets.c.signing_key_id)
            .where(tickets.c.id == ticket_id))).first()
        if row is None or not may_see(principal, row):
            raise not_found("Ticket", ticket_id)
        return row, await organizer(uow.session, row.tenant_id)


@router.get("/{ticket_id}/pdf", response_class=Response,
            responses={200: {"content": {"application/pdf": {}}, "description": "the printable ticket"}})
async def pdf(request: Request, ticket_id: uuid.UUID, principal: Principal = Depends(current_principal)) -> Response:
    """The printable ticket: QR, event, seat, holder and the organizer's legal details."""
    ticket, found = await _ticket_and_organizer(request, ticket_id, principal)
    return Response(ticket_pdf(ticket, found), media_type="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="ticket-{ticket.id}.pdf"',
                             "Cache-Control": "private, no-store"})


@router.get("/{ticket_id}/wallet-pass")
async def wallet(request: Request, response: Response, ticket_id: uuid.UUID,
                 principal: Principal = Depends(current_principal)) -> dict:
    """Wallet pass data (Apple Wallet pass.json shape) for a wallet integration to sign and deliver."""
    ticket, found = await _ticket_and_organizer(request, ticket_id, principal)
    response.headers["Cache-Control"] = "private, no-store"
    return wallet_pass(ticket, found, kid=ticket.kid)
