"""What notifications reads and writes agrees with the golden samples in libs/contracts."""
import json
import uuid
from pathlib import Path

import taquilla_contracts
from notifications_service.adapters.templates import TemplateRenderer
from notifications_service.application.deliver_messages import ClaimedMessage, message_sent
from notifications_service.application.queue_order_confirmation import (
    ORDER_CONFIRMATION,
    order_confirmation_context,
    tickets_attachment,
)
from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished
from taquilla_contracts.notifications import MessageSent
from taquilla_contracts.orders import OrderCompleted

SAMPLES = Path(taquilla_contracts.__file__).resolve().parents[2] / "samples"


def sample(name: str) -> Envelope:
    return Envelope.model_validate(json.loads((SAMPLES / f"{name}.json").read_text()))


def test_an_order_completed_sample_becomes_a_confirmation_email():
    order = sample("orders.order.completed.v1").parse(OrderCompleted)
    published = sample("catalog.event.published.v1").parse(EventPublished)
    email = TemplateRenderer().render(ORDER_CONFIRMATION, "es", order_confirmation_context(order, published))
    assert order.code in email.subject
    assert order.fiscal_number in email.text and all(t.qr_payload in email.html for t in order.tickets)
    assert [t["ticket_id"] for t in json.loads(tickets_attachment(order).content)] == [
        str(t.ticket_id) for t in order.tickets]


def test_message_sent_has_the_sample_shape():
    golden = sample("notifications.message.sent.v1")
    cause = uuid.uuid4()
    produced = message_sent(ClaimedMessage(
        id=uuid.uuid4(), tenant_id=golden.tenant_id, order_id=uuid.uuid4(), channel="email",
        template=ORDER_CONFIRMATION, recipient="ana@example.com", recipient_name="Ana", subject="s", body_text="t",
        body_html=None, attachments=[], attempts=1, correlation_id="order-example", causation_id=cause,
        trace_headers={},
    ))
    assert (produced.type, produced.version, produced.kind, produced.source) == (
        golden.type, golden.version, golden.kind, golden.source)
    assert set(produced.data) == set(golden.data)
    assert produced.parse(MessageSent).model_dump(mode="json") == produced.data
    assert (produced.correlation_id, produced.causation_id) == ("order-example", cause)


def test_every_platform_event_partners_hear_about_is_consumed_and_sent_whole():
    from datetime import datetime

    from notifications_service.domain.webhooks import (
        EVENT_TYPES,
        PRODUCED_TODAY,
        WEBHOOK_TYPE_OF,
        webhook_payload,
    )
    from notifications_service.entrypoints.messaging.subscriptions import subscriptions

    consumed = {type_ for type_, _ in subscriptions(None).by_type}
    assert set(WEBHOOK_TYPE_OF) <= consumed
    assert set(WEBHOOK_TYPE_OF.values()) == PRODUCED_TODAY and PRODUCED_TODAY <= set(EVENT_TYPES)
    for platform_type, webhook_type in WEBHOOK_TYPE_OF.items():
        golden = sample(f"{platform_type}.v1")
        body = json.loads(webhook_payload(webhook_type, golden.occurred_at, golden.data))
        assert body["type"] == webhook_type and body["data"] == golden.data
        assert datetime.fromisoformat(body["timestamp"]) == golden.occurred_at


def test_the_gateway_account_samples_become_emails_with_their_link_and_token():
    from notifications_service.application.account_emails import account_template
    from taquilla_contracts.gateway import PasswordResetRequested, UserVerificationRequested

    for name, model, expected in (("gateway.user.verification_requested.v1", UserVerificationRequested,
                                   ("email_verification", "verify-email")),
                                  ("gateway.user.password_reset_requested.v1", PasswordResetRequested,
                                   ("staff_invitation", "reset-password"))):
        request = sample(name).parse(model)
        template, page = account_template(request)
        assert (template, page) == expected
        link = f"https://shop.example.com/{page}?token={request.token}"
        email = TemplateRenderer().render(template, "es", {
            "user_name": request.name, "token": request.token, "link": link, "expires_at": request.expires_at,
            "time_zone": None, "tenant_name": getattr(request, "tenant_name", None) or "", "organizer_name": None})
        assert link in email.text and request.token in email.html and request.name in email.text


def test_the_new_producers_samples_are_consumed_and_render():
    from datetime import UTC, datetime

    from notifications_service.domain.event_changes import changes_between
    from notifications_service.entrypoints.messaging.subscriptions import subscriptions
    from taquilla_contracts.inventory import WaitlistOffered
    from taquilla_contracts.payments import PaymentCaptured

    consumed = set(subscriptions(None).by_type)
    for name, model in (("payments.payment.captured.v1", PaymentCaptured),
                        ("inventory.waitlist.offered.v1", WaitlistOffered),
                        ("catalog.event.published.v1", EventPublished)):
        golden = sample(name)
        assert (golden.type, golden.version) in consumed
        golden.parse(model)
    renderer = TemplateRenderer()
    captured = sample("payments.payment.captured.v1").parse(PaymentCaptured)
    receipt = renderer.render("payment_received", "en", {
        "buyer_name": "Ana", "order_code": "TQ-1", "event_title": "", "amount_minor": captured.amount_minor,
        "currency": captured.currency, "method": captured.method, "remaining_minor": 0, "branding": {},
        "organizer_name": None})
    assert "USD 25.00" in receipt.subject
    offer = sample("inventory.waitlist.offered.v1").parse(WaitlistOffered)
    email = renderer.render("waitlist_offer", "es", {
        "buyer_name": "", "quantity": offer.quantity, "offer_expires_at": offer.expires_at, "claim_url": "https://x",
        "event_title": "", "session_starts_at": None, "time_zone": None, "venue_name": None, "organizer_name": None,
        "zone_name": ""})
    assert f"Se liberaron {offer.quantity} entrada(s)" in email.text and "(UTC)" in email.text
    event = sample("catalog.event.published.v1").parse(EventPublished)
    later = datetime(2030, 1, 1, tzinfo=UTC)
    changes = changes_between(event.venue_name, {s.session_id: s.starts_at for s in event.sessions}, "Elsewhere",
                              {s.session_id: later for s in event.sessions})
    assert changes.for_session(event.sessions[0].session_id, None)[0] == {
        "what": "date", "old": event.sessions[0].starts_at, "new": later}
