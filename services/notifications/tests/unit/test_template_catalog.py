"""Every message kind reads right in Spanish and in English, and a tenant's wording takes over."""
import pytest
from notifications_service.adapters.templates import TemplateRenderer
from notifications_service.domain.template_catalog import KINDS, preview_context

REQUIRED = {"order_confirmation", "payment_received", "installment_reminder", "payment_plan_expiring",
            "order_cancelled", "refund_issued", "ticket_transferred_sender", "ticket_transferred_recipient",
            "waitlist_offer", "event_reminder", "event_changed", "event_cancelled"}
SPANISH = {"Hola", "pedido", "entrada", "Recordatorio", "Cambios", "cancelado", "Desactivamos", "Nueva"}
ENGLISH = {"Hello", "order", "ticket", "Reminder", "Changes", "cancelled", "disabled", "new"}


@pytest.fixture(scope="module")
def renderer():
    return TemplateRenderer()


def test_every_kind_the_issue_lists_exists():
    assert REQUIRED <= set(KINDS)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_renders_in_both_languages(renderer, kind):
    sample = KINDS[kind].sample
    es = renderer.render(kind, "es", sample)
    en = renderer.render(kind, "en", sample)
    for message in (es, en):
        assert message.subject and "\n" not in message.subject
        assert message.text.strip() and message.sms.strip()
        assert message.html.lstrip().startswith("<!DOCTYPE html>")
    assert es.text != en.text
    if not KINDS[kind].marketing:  # an announcement's headline is the organizer's own words, in one language
        assert es.subject != en.subject and es.sms != en.sms
    assert '<html lang="es">' in es.html and '<html lang="en">' in en.html
    assert any(word in es.text for word in SPANISH) and any(word in en.text for word in ENGLISH)


def test_dates_and_money_follow_the_language(renderer):
    sample = KINDS["event_reminder"].sample
    assert "sábado, 14 de marzo de 2026, 20:30 (America/Caracas)" in renderer.render("event_reminder", "es",
                                                                                         sample).text
    assert "Saturday, March 14, 2026, 8:30 PM" in renderer.render("event_reminder", "en", sample).text
    refund = KINDS["refund_issued"].sample
    assert "1.234,56 USD" in renderer.render("refund_issued", "es", refund).subject
    assert "USD 1,234.56" in renderer.render("refund_issued", "en", refund).subject


def test_a_tenant_override_replaces_only_its_part_and_language(renderer):
    sample = KINDS["event_reminder"].sample
    overrides = {("es", "subject"): "¡Mañana es {{ event_title }}!", ("es", "html"): "<p>{{ buyer_name }}</p>"}
    es = renderer.render("event_reminder", "es", sample | {"buyer_name": "<b>Ana</b>"}, overrides=overrides)
    assert es.subject == "¡Mañana es Rock & Sol 2026!"
    assert es.html == "<p>&lt;b&gt;Ana&lt;/b&gt;</p>"  # an override is autoescaped like the shipped HTML
    assert es.text == renderer.render("event_reminder", "es", sample | {"buyer_name": "<b>Ana</b>"}).text
    en = renderer.render("event_reminder", "en", sample, overrides=overrides)
    assert en.subject.startswith("Reminder:")


def test_preview_context_takes_iso_dates():
    context = preview_context(KINDS["event_reminder"], {"session_starts_at": "2026-05-01T23:00:00+00:00",
                                                        "buyer_name": "Luis"})
    assert context["session_starts_at"].year == 2026 and context["buyer_name"] == "Luis"
    with pytest.raises(ValueError):
        preview_context(KINDS["event_reminder"], {"session_starts_at": "tomorrow"})


def test_a_resale_refund_tells_the_seller_their_ticket_was_resold(renderer):
    resold = KINDS["refund_issued"].sample | {"reason": "resold", "full": False}
    assert "Your ticket was resold" in renderer.render("refund_issued", "en", resold).text
    assert "Tu entrada se revendió" in renderer.render("refund_issued", "es", resold).html
    assert "resold" not in renderer.render("refund_issued", "en", KINDS["refund_issued"].sample).text


def test_a_late_payment_refund_tells_the_buyer_their_seats_were_gone(renderer):
    late = KINDS["refund_issued"].sample | {"reason": "late_payment", "full": True}
    assert "sold to someone else meanwhile" in renderer.render("refund_issued", "en", late).text
    assert "se vendieron a otra persona" in renderer.render("refund_issued", "es", late).html
    assert "someone else" not in renderer.render("refund_issued", "en", KINDS["refund_issued"].sample).text
