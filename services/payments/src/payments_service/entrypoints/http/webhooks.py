"""Provider webhooks: POST /api/v1/payments/webhooks/{provider}, no bearer token, the provider's signature."""
from __future__ import annotations

from fastapi import APIRouter, Request

from ...application.provider_webhooks import receive_webhook

PATH = "/api/v1/payments/webhooks"
router = APIRouter(prefix=PATH, tags=["payments: provider webhooks"])


@router.post("/{provider}", responses={
    200: {"description": "Received (applied, or a duplicate or ignored event: no effect)"},
    400: {"description": "Not readable as this provider's event"},
    401: {"description": "Bad or missing signature"},
    404: {"description": "No such provider here"},
    409: {"description": "The payment is not known here yet: deliver again (Retry-After)"},
})
async def provider_webhook(request: Request, provider: str) -> dict:
    body = await request.body()  # the signature covers the exact bytes
    answer = await receive_webhook(request.app.state.db, request.app.state.container.providers, provider,
                                   {k.lower(): v for k, v in request.headers.items()}, body,
                                   remote=request.client.host if request.client else None)
    return answer.body()
