"""Refunds of an order's tickets, asked by its buyer (within the organizer's window) or by staff; and refunds of
an amount (goodwill, a price adjustment), by staff only."""
from __future__ import annotations

import uuid
from datetime import timedelta

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from taquilla_platform.auth import Principal, current_principal
from taquilla_platform.idempotency import require_idempotency_key

from ...application.refunds import RefundRequest, request_refund

router = APIRouter(prefix="/api/v1/orders", tags=["refunds"])


@router.post("/{order_id}/refunds", status_code=202)
async def create_refund(request: Request, order_id: uuid.UUID, body: RefundRequest,
                        idempotency_key: str = Depends(require_idempotency_key),
                        principal: Principal = Depends(current_principal)):
    """Refund some or all tickets: the money goes back first, then a credit note, the tickets are voided and
    the seats go back on sale. Or (staff) refund `amount_minor`: the money and a credit note for it, every
    ticket stays valid; at most what the order's tickets are still worth (422 on `amount_minor`), and later
    ticket refunds give back what the tickets are worth after it. Answers 202 with the refund; follow it on
    GET /orders/{id} (`refunds`)."""
    container = request.app.state.container
    cutoff = timedelta(hours=container.settings.buyer_refund_cutoff_hours)
    status, answer, replayed = await request_refund(container.db, principal, order_id, body, idempotency_key,
                                                    cutoff)
    headers = {"Location": f"/api/v1/orders/{order_id}"}
    if replayed:
        headers["Idempotency-Replayed"] = "true"
    return JSONResponse(answer, status_code=status, headers=headers)
