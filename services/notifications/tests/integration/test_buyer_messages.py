"""Buyers hear from us in their language, on the channels they chose; marketing only if they accept it."""
import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.orders import OrderCancelled, OrderCompleted, OrderPlaced
from taquilla_devtools.testing import buyer, eventually, staff

from .test_order_confirmation import order_completed
from .test_webhooks import harness


def mail_to(sink, address):
    return [m for m in sink.accepted if m["To"].addresses[0].addr_spec == address]


async def test_an_opted_out_buyer_gets_no_marketing_but_still_the_order_confirmation(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        me = buyer(email="quiet@example.com")
        opted_out = await h.client.put("/api/v1/notifications/me/preferences", params={"tenant_id": str(tenant)},
                                       headers=me, json={"email_marketing": False, "language": "en"})
        assert opted_out.status_code == 200, opted_out.text
        assert opted_out.json()["email_marketing"] is False and opted_out.json()["email_transactional"] is True

        event_id = uuid.uuid4()
        quiet = order_completed(tenant, event_id=event_id, email="quiet@example.com", name="Quinn")
        keen = order_completed(tenant, event_id=event_id, email="keen@example.com", name="Kira")
        await h.publish(quiet)
        await h.publish(keen)
        await eventually(lambda: _at_least(sink.accepted, 2))

        response = await h.client.post("/api/v1/notifications/announcements", headers=staff(tenant), json={
            "event_id": str(event_id), "headline": "Second show added!", "message": "We open a second night."})
        assert response.status_code == 201, response.text
        assert response.json() == {"queued": 1, "suppressed": 1, "failed": 0}
        await eventually(lambda: _at_least(mail_to(sink, "keen@example.com"), 2))
        await asyncio.sleep(1.0)

        (confirmation,) = mail_to(sink, "quiet@example.com")  # the order confirmation, and nothing else
        assert quiet.parse(OrderCompleted).code in confirmation["Subject"]
        assert confirmation["Subject"].startswith("Your tickets for")  # in the language the buyer chose
        keen_subjects = sorted(m["Subject"] for m in mail_to(sink, "keen@example.com"))
        assert keen_subjects[0] == "Second show added!" and keen_subjects[1].startswith("Tus entradas para")

        announcement = next(m for m in mail_to(sink, "keen@example.com") if m["Subject"] == "Second show added!")
        link = next(line for line in announcement.get_body(("plain",)).get_content().splitlines()
                    if "unsubscribe?token=" in line).split(": ", 1)[1]
        assert link.startswith("http://127.0.0.1:8000/api/v1/notifications/unsubscribe?token=")
        path = link.removeprefix("http://127.0.0.1:8000")
        page = await h.client.get(path)  # a mail scanner following the link unsubscribes nobody
        assert page.status_code == 200 and "keen@example.com" in page.text and "<form" in page.text
        keen_prefs = f"/api/v1/notifications/preferences/{'keen@example.com'}"
        assert (await h.client.get(keen_prefs, headers=staff(tenant))).json()["email_marketing"] is True
        forged = await h.client.post(path.replace("token=", "token=x"))
        assert forged.status_code == 400 and forged.json()["errors"][0]["field"] == "token"
        assert announcement["List-Unsubscribe"] == f"<{link}>"
        assert announcement["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert confirmation["List-Unsubscribe"] is None  # a receipt is not something to unsubscribe from
        done = await h.client.post(path, content="List-Unsubscribe=One-Click",  # as a mailbox provider posts it
                                   headers={"Content-Type": "application/x-www-form-urlencoded"})
        assert done.status_code == 200
        assert (await h.client.get(keen_prefs, headers=staff(tenant))).json()["email_marketing"] is False
        again = await h.client.post("/api/v1/notifications/announcements", headers=staff(tenant), json={
            "event_id": str(event_id), "headline": "Last tickets!", "message": "Almost sold out."})
        assert again.json() == {"queued": 0, "suppressed": 2, "failed": 0}

        listed = (await h.client.get("/api/v1/notifications/messages", params={"status": "suppressed"},
                                     headers=staff(tenant))).json()["items"]
        assert sorted((m["recipient"], m["category"], m["template"]) for m in listed) == [
            ("keen@example.com", "marketing", "event_announcement"),
            ("quiet@example.com", "marketing", "event_announcement"),
            ("quiet@example.com", "marketing", "event_announcement")]
        assert all("opted out" in m["last_error"] for m in listed)

        mine = await h.client.get("/api/v1/notifications/me/preferences", params={"tenant_id": str(tenant)},
                                  headers=me)
        assert mine.json()["language"] == "en"
        elsewhere = await h.client.get("/api/v1/notifications/me/preferences",
                                       params={"tenant_id": str(uuid.uuid4())}, headers=me)
        assert elsewhere.json()["email_marketing"] is True  # a choice is per organizer

        bad = await h.client.put(f"/api/v1/notifications/preferences/{'keen@example.com'}", headers=staff(tenant),
                                 json={"phone": "0414-123"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "phone"
        nobody = await h.client.post("/api/v1/notifications/announcements", headers=staff(tenant),
                                     json={"headline": "x", "message": "y"})
        assert nobody.status_code == 422 and nobody.json()["errors"][0]["field"] == "recipients"


async def test_a_cancelled_order_is_told_to_its_buyer(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        order = OrderPlaced(
            order_id=uuid.uuid4(), code="TQ-LATE1", event_id=uuid.uuid4(), session_id=uuid.uuid4(),
            buyer=Buyer(email="late@example.com", name="Lola"),
            lines=[OrderLine(zone_id=uuid.uuid4(), zone_name="Pista", quantity=1, unit_price_minor=5000)],
            total_minor=5000, currency="USD", hold_expires_at=datetime.now(UTC) + timedelta(minutes=10))
        await h.publish(Envelope.wrap(order, source="orders", tenant_id=tenant))
        await asyncio.sleep(0.5)
        cancelled = Envelope.wrap(OrderCancelled(order_id=order.order_id, code="TQ-LATE1", reason="hold_expired"),
                                  source="orders", tenant_id=tenant)
        await h.publish(cancelled)
        await h.publish(cancelled)
        await eventually(lambda: _at_least(sink.accepted, 1))
        await asyncio.sleep(0.5)
        (mail,) = sink.accepted
        assert mail["Subject"] == "Tu pedido TQ-LATE1 fue cancelado"
        assert "tiempo para pagar se agotó" in mail.get_body(("plain",)).get_content()


async def test_a_tenant_rewrites_a_template_previews_it_and_buyers_get_it(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant, other = uuid.uuid4(), uuid.uuid4()
        base = "/api/v1/notifications/templates"
        kinds = (await h.client.get(base, headers=staff(tenant))).json()["items"]
        assert {"order_confirmation", "event_reminder", "waitlist_offer"} <= {k["template"] for k in kinds}

        preview = await h.client.post(f"{base}/event_reminder/preview", headers=staff(tenant), json={
            "language": "en", "context": {"buyer_name": "Luis", "session_starts_at": "2026-05-01T23:00:00+00:00"}})
        assert preview.status_code == 200, preview.text
        assert "Hello Luis" in preview.json()["text"] and "May 1, 2026, 7:00 PM" in preview.json()["text"]

        draft = await h.client.post(f"{base}/order_confirmation/preview", headers=staff(tenant), json={
            "language": "es", "draft": {"subject": "¡{{ buyer_name }}, ya tienes tus entradas! ({{ order_code }})"}})
        assert draft.json()["subject"] == "¡Ana Pérez, ya tienes tus entradas! (TQ-7KX2)"

        async def refused(body, field, slug):
            response = await h.client.put(f"{base}/order_confirmation/es", headers=staff(tenant), json=body)
            assert response.status_code == 422, response.text
            assert response.json()["errors"][0]["field"] == field and response.json()["type"].endswith(slug)

        await refused({"subject": "{{ ''.__class__.__mro__[1].__subclasses__() }}"}, "subject", "template-not-allowed")
        await refused({"text": "Hola {{ buyer_nme }}"}, "text", "template-error")
        await refused({"html": "{% if %}"}, "html", "template-error")
        missing = await h.client.put(f"{base}/no_such_thing/es", headers=staff(tenant), json={"subject": "x"})
        assert missing.status_code == 404
        language = await h.client.put(f"{base}/order_confirmation/pt", headers=staff(tenant), json={"subject": "x"})
        assert language.status_code == 422 and language.json()["errors"][0]["field"] == "language"

        saved = await h.client.put(f"{base}/order_confirmation/es", headers=staff(tenant), json={
            "subject": "¡{{ buyer_name }}, ya tienes tus entradas! ({{ order_code }})"})
        assert saved.status_code == 200 and saved.json()["parts"]["subject"]["override"]

        mine, theirs = order_completed(tenant, name="Ana"), order_completed(other, email="otro@example.com")
        await h.publish(mine)
        await h.publish(theirs)
        await eventually(lambda: _at_least(sink.accepted, 2))
        subjects = {m["To"].addresses[0].addr_spec: m["Subject"] for m in sink.accepted}
        assert subjects["ana@example.com"] == f"¡Ana, ya tienes tus entradas! ({mine.parse(OrderCompleted).code})"
        assert subjects["otro@example.com"].startswith("Tus entradas para")  # another organizer keeps the default

        restored = await h.client.delete(f"{base}/order_confirmation/es", headers=staff(tenant))
        assert restored.status_code == 204
        sources = (await h.client.get(f"{base}/order_confirmation/es", headers=staff(tenant))).json()
        assert sources["parts"]["subject"]["override"] is None
        assert sources["parts"]["subject"]["default"].startswith("Tus entradas para")


async def _at_least(items, n):
    return len(items) >= n


async def test_buyers_are_reminded_once_before_their_session(smtp_sink):
    from notifications_service.adapters.tables import orders as known_orders
    from sqlalchemy import update

    sink = smtp_sink()
    await sink.start()
    env = {"NOTIFICATIONS_EVENT_REMINDER_HOURS": "3", "NOTIFICATIONS_REMINDER_POLL_SECONDS": "0.2"}
    async with harness(sink, **env) as h:
        tenant = uuid.uuid4()
        soon = datetime.now(UTC) + timedelta(hours=2)

        def completed(email, starts_at):
            envelope = order_completed(tenant, email=email)
            order = envelope.parse(OrderCompleted).model_copy(update={"session_starts_at": starts_at})
            return Envelope.wrap(order, source="orders", tenant_id=tenant), order

        early, early_order = completed("early@example.com", soon)  # bought last week
        late, _ = completed("late@example.com", soon)  # bought just now: the confirmation has the date
        far, _ = completed("far@example.com", datetime.now(UTC) + timedelta(days=5))
        await h.publish(early)
        await eventually(lambda: _at_least(sink.accepted, 1))
        async with h.db() as uow:
            await uow.session.execute(update(known_orders).where(known_orders.c.order_id == early_order.order_id)
                                      .values(updated_at=datetime.now(UTC) - timedelta(days=7)))
            await uow.commit()
        await h.publish(late)
        await h.publish(far)
        await eventually(lambda: _at_least(mail_to(sink, "early@example.com"), 2))
        await asyncio.sleep(1.5)  # several runs of the reminder job

        (reminder,) = [m for m in mail_to(sink, "early@example.com") if m["Subject"].startswith("Recordatorio")]
        assert "Rock & Sol 2026" in reminder["Subject"]
        assert early_order.code in reminder.get_body(("plain",)).get_content()
        assert len(mail_to(sink, "late@example.com")) == 1 and len(mail_to(sink, "far@example.com")) == 1


async def test_an_organizer_writes_in_its_own_language_unless_the_buyer_chose(smtp_sink):
    from taquilla_contracts.gateway import TenantRegistered

    sink = smtp_sink()
    await sink.start()
    async with harness(sink) as h:
        tenant = uuid.uuid4()
        await h.publish(Envelope.wrap(TenantRegistered(
            tenant_id=tenant, slug="miami-live", name="Miami Live", legal_name="Miami Live LLC", tax_id="12-345",
            country="US", currency="USD", time_zone="America/New_York"), source="gateway", tenant_id=tenant))
        settings = await eventually(lambda: _effective_language(h, tenant))
        assert settings == "en"  # from the organizer's country

        await h.publish(order_completed(tenant, email="first@example.com"))
        await eventually(lambda: _at_least(mail_to(sink, "first@example.com"), 1))
        assert mail_to(sink, "first@example.com")[0]["Subject"].startswith("Your tickets for")

        chosen = await h.client.put("/api/v1/notifications/settings", headers=staff(tenant),
                                    json={"default_language": "es"})
        assert chosen.status_code == 200 and chosen.json()["effective_language"] == "es"
        await h.publish(order_completed(tenant, email="second@example.com"))
        await eventually(lambda: _at_least(mail_to(sink, "second@example.com"), 1))
        assert mail_to(sink, "second@example.com")[0]["Subject"].startswith("Tus entradas para")

        bad = await h.client.put("/api/v1/notifications/settings", headers=staff(tenant),
                                 json={"default_language": "fr"})
        assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "default_language"


async def _effective_language(h, tenant):
    response = await h.client.get("/api/v1/notifications/settings", headers=staff(tenant))
    return response.json()["effective_language"]
