"""Account emails: the gateway asks, the person gets one email with a link that works on the storefront."""
import asyncio
import secrets
import uuid
from datetime import UTC, datetime

from notifications_service.adapters.tables import messages as message_table
from prometheus_client import REGISTRY
from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.gateway import PasswordResetRequested, TenantRegistered, UserVerificationRequested
from taquilla_devtools.testing import eventually, staff

from .test_buyer_messages import mail_to
from .test_webhooks import harness

STOREFRONT = {"NOTIFICATIONS_STOREFRONT_URL": "https://shop.example.com/"}


def consumed(type_: str, outcome: str) -> float:
    return REGISTRY.get_sample_value("taquilla_messages_consumed_total",
                                     {"service": "notifications", "type": type_, "outcome": outcome}) or 0.0


async def publish_twice(h, envelope: Envelope) -> None:
    """The same message delivered twice; returns once the second copy has been consumed (and acked)."""
    before = consumed(envelope.type, "duplicate")
    await h.publish(envelope)
    await h.publish(envelope)

    async def second_copy_seen():
        return consumed(envelope.type, "duplicate") > before
    await eventually(second_copy_seen)


async def rows_to(h, recipient: str):
    async with h.db() as uow:
        return (await uow.session.execute(select(message_table).where(message_table.c.recipient == recipient))).all()


async def all_sent(h, recipient: str, count: int):
    rows = await rows_to(h, recipient)
    return rows if len(rows) == count and all(r.status == "sent" for r in rows) else None


def text_of(mail) -> str:
    return mail.get_body(("plain",)).get_content()


def html_of(mail) -> str:
    return mail.get_body(("html",)).get_content()


async def test_a_new_account_gets_one_verification_email_and_a_forgotten_password_one_reset_link(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink, **STOREFRONT) as h:
        sent = await h.listen("notifications.message.sent")
        address = f"ana-{uuid.uuid4().hex[:8]}@example.com"
        token = secrets.token_urlsafe(32)
        verification = Envelope.wrap(UserVerificationRequested(
            user_id=uuid.uuid4(), email=address, name="Ana Pérez", token=token,
            expires_at=datetime(2030, 1, 2, 15, 0, tzinfo=UTC)), source="gateway", tenant_id=None)
        await publish_twice(h, verification)  # a redelivery is not a second email
        (row,) = await eventually(lambda: all_sent(h, address, 1))
        (mail,) = mail_to(sink, address)
        assert mail["Subject"] == "Confirma tu dirección de correo"  # no organizer, no choice: the platform's language
        link = f"https://shop.example.com/verify-email?token={token}"
        assert link in text_of(mail) and f'href="{link}"' in html_of(mail)
        assert f"usa: {token}" in text_of(mail) and "2 de enero de 2030, 15:00 (UTC)" in text_of(mail)
        assert row.category == "transactional" and row.channel == "email"
        assert token not in row.body_text and row.body_html is None  # once sent, the live token is not kept
        announced = await asyncio.wait_for(sent.get(), 15)
        assert (announced.tenant_id, announced.data["template"]) == (None, "email_verification")

        reset_token = secrets.token_urlsafe(32)
        await h.publish(Envelope.wrap(PasswordResetRequested(
            user_id=uuid.uuid4(), email=address, name="Ana Pérez", token=reset_token,
            expires_at=datetime(2030, 1, 2, 16, 0, tzinfo=UTC)), source="gateway", tenant_id=None))
        await eventually(lambda: all_sent(h, address, 2))
        reset = next(m for m in mail_to(sink, address) if m["Subject"] == "Restablece tu contraseña")
        assert f"https://shop.example.com/reset-password?token={reset_token}" in text_of(reset)
        assert token not in text_of(reset) and len(mail_to(sink, address)) == 2


async def test_an_invited_staff_member_gets_the_organizers_wording_language_and_branding(smtp_sink):
    sink = smtp_sink()
    await sink.start()
    async with harness(sink, **STOREFRONT) as h:
        tenant = uuid.uuid4()
        await h.publish(Envelope.wrap(TenantRegistered(
            tenant_id=tenant, slug="avila", name="Producciones Ávila", legal_name="Producciones Ávila C.A.",
            tax_id="J-12345678-9", country="US", currency="USD", time_zone="America/Caracas",
            branding={"logo_url": "https://cdn.example.com/avila.png", "primary_color": "#1A73E8",
                      "website": "javascript:alert(1)"}), source="gateway", tenant_id=tenant))

        async def english():
            settings = (await h.client.get("/api/v1/notifications/settings", headers=staff(tenant))).json()
            return settings["effective_language"] == "en"
        await eventually(english)
        wording = await h.client.put("/api/v1/notifications/templates/staff_invitation/en", headers=staff(tenant),
                                     json={"subject": "Join {{ tenant_name }} at the box office"})
        assert wording.status_code == 200, wording.text
        address = f"luis-{uuid.uuid4().hex[:8]}@example.com"
        opted_out = await h.client.put(f"/api/v1/notifications/preferences/{address}", headers=staff(tenant),
                                       json={"email_marketing": False})
        assert opted_out.status_code == 200, opted_out.text

        token = secrets.token_urlsafe(32)
        await publish_twice(h, Envelope.wrap(PasswordResetRequested(
            user_id=uuid.uuid4(), email=address, name="Luis Gómez", token=token,
            expires_at=datetime(2030, 1, 2, 16, 0, tzinfo=UTC), reason="invitation",
            tenant_name="Producciones Ávila"), source="gateway", tenant_id=tenant))
        await eventually(lambda: all_sent(h, address, 1))
        (mail,) = mail_to(sink, address)  # transactional: the marketing opt-out does not hold it back
        assert mail["Subject"] == "Join Producciones Ávila at the box office"
        assert "Producciones Ávila invited you" in text_of(mail)
        assert f"https://shop.example.com/reset-password?token={token}" in text_of(mail)
        assert "12:00 PM (America/Caracas)" in text_of(mail)  # the organizer's time zone
        html = html_of(mail)
        assert 'src="https://cdn.example.com/avila.png"' in html and "#1a73e8" in html
        assert "javascript:" not in html  # only https links of the branding reach the email

        (listed,) = (await h.client.get("/api/v1/notifications/messages", headers=staff(tenant))).json()["items"]
        assert (listed["template"], listed["status"]) == ("staff_invitation", "sent")
        detail = (await h.client.get(f"/api/v1/notifications/messages/{listed['id']}", headers=staff(tenant))).json()
        assert token not in str(detail)  # the organizer's staff cannot take over the invited account
