"""The message templates there are, what each is for, and a realistic context to preview it with."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

_STARTS = datetime(2026, 3, 15, 0, 30, tzinfo=UTC)
_COMMON = {"buyer_name": "Ana Pérez", "event_title": "Rock & Sol 2026", "session_starts_at": _STARTS,
           "time_zone": "America/Caracas", "venue_name": "Poliedro de Caracas",
           "organizer_name": "Producciones Ávila", "order_code": "TQ-7KX2", "currency": "USD"}

_ACCOUNT = {"user_name": "Ana Pérez", "token": "vJ3kq9Xo2m1Yp8Rt5Wz7",
            "link": "https://tickets.example.com/verify-email?token=vJ3kq9Xo2m1Yp8Rt5Wz7",
            "expires_at": datetime(2026, 3, 2, 16, 0, tzinfo=UTC), "time_zone": None}


@dataclass(frozen=True)
class TemplateKind:
    name: str
    description: str
    sample: dict[str, Any]
    marketing: bool = False


KINDS: dict[str, TemplateKind] = {k.name: k for k in (
    TemplateKind("order_confirmation", "Order paid: the tickets, with their QR codes", _COMMON | {
        "total_minor": 123456, "fiscal_number": "A-00000042",
        "tickets": [{"ticket_id": "t-1", "label": "GA-1", "zone": "Pista", "qr_payload": "TQ1.example.sig"}]}),
    TemplateKind("payment_received", "A payment (or installment) was received", _COMMON | {
        "amount_minor": 50000, "remaining_minor": 73456, "method": "pagomovil"}),
    TemplateKind("installment_reminder", "An installment is due soon", _COMMON | {
        "amount_minor": 41152, "installment_number": 2, "installments_total": 3,
        "due_at": datetime(2026, 2, 1, 16, 0, tzinfo=UTC), "pay_url": "https://tickets.example.com/pay/TQ-7KX2"}),
    TemplateKind("payment_plan_expiring", "A payment plan's deadline is near", _COMMON | {
        "remaining_minor": 82304, "expires_at": datetime(2026, 2, 20, 16, 0, tzinfo=UTC),
        "pay_url": "https://tickets.example.com/pay/TQ-7KX2"}),
    TemplateKind("order_cancelled", "An order was cancelled", _COMMON | {"reason": "hold_expired",
                                                                          "total_minor": 123456}),
    TemplateKind("refund_issued", "A refund was issued", _COMMON | {
        "amount_minor": 123456, "credit_note_number": "NC-00000007", "ticket_count": 2, "full": True,
        "reason": "buyer_request"}),
    TemplateKind("ticket_transferred_sender", "A ticket was transferred: to the person who gave it", _COMMON | {
        "sender_name": "Ana Pérez", "recipient_name": "Luis Gómez", "ticket_label": "GA-1"}),
    TemplateKind("ticket_transferred_recipient", "A ticket was transferred: to the person who got it", _COMMON | {
        "sender_name": "Ana Pérez", "recipient_name": "Luis Gómez", "ticket_label": "GA-1",
        "qr_payload": "TQ1.example.sig"}),
    TemplateKind("waitlist_offer", "Seats were released for someone on the waitlist", _COMMON | {
        "quantity": 2, "zone_name": "Pista", "offer_expires_at": datetime(2026, 3, 10, 16, 0, tzinfo=UTC),
        "claim_url": "https://tickets.example.com/waitlist/claim/abc"}),
    TemplateKind("event_reminder", "Sent a set number of hours before the session", _COMMON | {"ticket_count": 2}),
    TemplateKind("event_changed", "The event's date, venue or details changed", _COMMON | {
        "changes": [{"what": "date", "old": _STARTS, "new": datetime(2026, 3, 22, 0, 30, tzinfo=UTC)},
                    {"what": "venue", "old": "Poliedro de Caracas", "new": "Estadio Monumental"}],
        "session_starts_at": datetime(2026, 3, 22, 0, 30, tzinfo=UTC), "venue_name": "Estadio Monumental"}),
    TemplateKind("event_cancelled", "The event was cancelled", _COMMON | {"total_minor": 123456}),
    TemplateKind("event_announcement", "News about an event, to buyers who accept marketing", _COMMON | {
        "headline": "¡Nueva fecha de Rock & Sol!", "message": "Abrimos una segunda función.",
        "url": "https://tickets.example.com/rock"}, marketing=True),
    TemplateKind("email_verification", "To a new account: confirm the email address (link with a one-time token)",
                 _ACCOUNT),
    TemplateKind("password_reset", "Someone asked to reset an account's password (link with a one-time token)",
                 _ACCOUNT | {"link": "https://tickets.example.com/reset-password?token=vJ3kq9Xo2m1Yp8Rt5Wz7"}),
    TemplateKind("staff_invitation", "An organizer invited someone to its staff: choose a password (one-time link)",
                 _ACCOUNT | {"link": "https://tickets.example.com/reset-password?token=vJ3kq9Xo2m1Yp8Rt5Wz7",
                             "tenant_name": "Producciones Ávila", "organizer_name": "Producciones Ávila"}),
    TemplateKind("webhook_disabled", "To the organizer: a webhook endpoint was disabled", {
        "url": "https://partner.example.com/hooks", "reason": "answered 410 Gone", "last_error": "",
        "endpoint_id": "00000000-0000-0000-0000-000000000000"}),
)}


def preview_context(kind: TemplateKind, given: dict[str, Any] | None) -> dict[str, Any]:
    """The sample, with what the caller gave on top; ISO strings become datetimes where the sample has one."""
    context = dict(kind.sample)
    for key, value in (given or {}).items():
        if isinstance(kind.sample.get(key), datetime) and isinstance(value, str):
            try:
                value = datetime.fromisoformat(value)
            except ValueError:
                raise ValueError(f"context.{key} is not an ISO 8601 date and time") from None
        context[key] = value
    return context
