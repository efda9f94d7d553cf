"""The order-confirmation email as the buyer sees it, in both languages, and the sandbox around templates."""
import json
import uuid
from datetime import UTC, datetime

import pytest
from jinja2 import DictLoader, UndefinedError
from jinja2.exceptions import SecurityError
from notifications_service.adapters.templates import TemplateRenderer
from notifications_service.application.queue_order_confirmation import (
    ORDER_CONFIRMATION,
    order_confirmation_context,
    tickets_attachment,
)
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import OrderCompleted, TicketSummary


def completed_order(name: str = "Ana Pérez") -> OrderCompleted:
    return OrderCompleted(
        order_id=uuid.uuid4(), code="TQ-7KX2", event_id=uuid.uuid4(), event_title="Rock & Sol 2026",
        session_starts_at=datetime(2026, 3, 15, 0, 30, tzinfo=UTC), buyer=Buyer(email="ana@example.com", name=name),
        total_minor=123456, currency="USD", fiscal_number="A-00000042",
        tickets=[TicketSummary(ticket_id=uuid.uuid4(), label=f"GA-{i}", zone_name="Pista", qr_payload=f"TQ1.qr{i}.sig")
                 for i in (1, 2)],
    )


class Event:
    time_zone = "America/Caracas"
    venue_name = "Poliedro de Caracas"
    organizer_name = "Producciones Ávila"


@pytest.fixture(scope="module")
def renderer():
    return TemplateRenderer()


def test_spanish_confirmation_lists_everything_the_buyer_needs(renderer):
    order = completed_order()
    email = renderer.render(ORDER_CONFIRMATION, "es", order_confirmation_context(order, Event()))
    assert email.subject == "Tus entradas para Rock & Sol 2026 (pedido TQ-7KX2)"
    for body in (email.text, email.html):
        assert "TQ-7KX2" in body
        assert "A-00000042" in body
        assert "1.234,56 USD" in body
        assert "sábado, 14 de marzo de 2026, 20:30 (America/Caracas)" in body
        assert "Poliedro de Caracas" in body
        for ticket in order.tickets:
            assert ticket.label in body and ticket.qr_payload in body
        assert "Pista" in body
    assert "Hola, Ana Pérez" in email.text
    assert "Rock &amp; Sol 2026" in email.html


def test_english_confirmation(renderer):
    order = completed_order("Ann")
    email = renderer.render(ORDER_CONFIRMATION, "en", order_confirmation_context(order, Event()))
    assert email.subject == "Your tickets for Rock & Sol 2026 (order TQ-7KX2)"
    assert "USD 1,234.56" in email.text and "Invoice: A-00000042" in email.text
    assert "Saturday, March 14, 2026, 8:30 PM (America/Caracas)" in email.html


def test_without_the_catalog_event_the_date_is_given_in_utc(renderer):
    email = renderer.render(ORDER_CONFIRMATION, "es", order_confirmation_context(completed_order(), None))
    assert "domingo, 15 de marzo de 2026, 00:30 (UTC)" in email.text
    assert "Lugar:" not in email.text


def test_an_unknown_language_falls_back_to_spanish(renderer):
    email = renderer.render(ORDER_CONFIRMATION, "pt", order_confirmation_context(completed_order(), None))
    assert email.subject.startswith("Tus entradas")


def test_html_escapes_what_buyers_and_organizers_type(renderer):
    order = completed_order(name='<script>alert("x")</script>')
    email = renderer.render(ORDER_CONFIRMATION, "es", order_confirmation_context(order, Event()))
    assert "<script>" not in email.html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in email.html
    assert '<script>alert("x")</script>' in email.text  # plain text is not HTML: shown as typed


def test_a_subject_is_always_one_line(renderer):
    order = completed_order().model_copy(update={"event_title": "Rock\r\nBcc: victim@example.com"})
    email = renderer.render(ORDER_CONFIRMATION, "es", order_confirmation_context(order, None))
    assert "\n" not in email.subject and "\r" not in email.subject


def test_the_tickets_attachment_parses_back_to_the_tickets():
    order = completed_order()
    attachment = tickets_attachment(order)
    assert (attachment.filename, attachment.content_type) == ("tickets.json", "application/json")
    assert json.loads(attachment.content) == [
        {"ticket_id": str(t.ticket_id), "label": t.label, "zone": t.zone_name, "qr_payload": t.qr_payload}
        for t in order.tickets
    ]


def _renderer_with(source: str) -> TemplateRenderer:
    return TemplateRenderer(DictLoader({f"es/t.{part}": source for part in ("subject.txt", "txt", "html")}))


def test_templates_run_in_a_sandbox():
    with pytest.raises(SecurityError):
        _renderer_with("{{ ''.__class__.__mro__[1].__subclasses__() }}").render("t", "es", {})


def test_a_missing_value_is_an_error_not_a_blank():
    with pytest.raises(UndefinedError):
        _renderer_with("Hola {{ buyer_name }}").render("t", "es", {})
