"""Callbacks from the SMS/WhatsApp provider (public, authenticated by the provider's signature)."""
from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import Response
from taquilla_platform.problems import Problem

from ...adapters.text_messages import is_valid_callback
from ...application.record_provider_status import record_provider_status

router = APIRouter(prefix="/api/v1/notifications/providers", tags=["providers"])


@router.post("/twilio/status", status_code=204)
async def twilio_status(request: Request) -> Response:
    settings = request.app.state.settings.provider
    params = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
    if settings.auth_token is None or not settings.status_callback_url:
        raise Problem(404, "not-found", "Provider callbacks are not configured")
    if not is_valid_callback(settings.auth_token.get_secret_value(), settings.status_callback_url, params,
                             request.headers.get("x-twilio-signature", "")):
        raise Problem(403, "invalid-signature", "The callback signature does not match",
                      field="X-Twilio-Signature")
    sid, status = params.get("MessageSid"), params.get("MessageStatus")
    if not sid or not status:
        raise Problem(422, "validation-error", "MessageSid and MessageStatus are required",
                      field="MessageSid" if not sid else "MessageStatus")
    if not await record_provider_status(request.app.state.db, sid, status, params.get("ErrorCode")):
        raise not_found_yet(sid)
    return Response(status_code=204)


def not_found_yet(sid: str) -> Problem:
    # the callback can overtake our own record of the send; a 404 makes the provider try again later
    return Problem(404, "not-found", "Unknown message", f"No message {sid} here (yet)", field="MessageSid")
