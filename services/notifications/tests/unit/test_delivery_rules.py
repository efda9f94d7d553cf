"""Retry timing, address checks and how SMTP answers are sorted into temporary and permanent."""
import email
import json
from email import policy

import aiosmtplib
import pytest
from notifications_service.adapters.smtp import build_email, classify, message_id_for
from notifications_service.domain.messages import (
    Attachment,
    Email,
    PermanentFailure,
    TemporaryFailure,
    is_deliverable_address,
    retry_delay,
)


def test_backoff_doubles_and_is_capped():
    delays = [retry_delay(n, base_seconds=30, max_seconds=3600) for n in range(1, 10)]
    assert delays == [30, 60, 120, 240, 480, 960, 1920, 3600, 3600]


@pytest.mark.parametrize(("address", "ok"), [
    ("ana@example.com", True),
    ("ana.maria+tickets@sub.example.co.ve", True),
    ("ana@localhost", False),
    ("no-at-sign.example.com", False),
    ("ana@example.com\r\nBcc: victim@example.com", False),
    ("Ana <ana@example.com>", False),
    ("", False),
])
def test_deliverable_addresses(address, ok):
    assert is_deliverable_address(address) is ok


@pytest.mark.parametrize(("exc", "kind"), [
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(550, "no such user", "a@x.io")]),
     PermanentFailure),
    (aiosmtplib.SMTPRecipientsRefused([aiosmtplib.SMTPRecipientRefused(450, "mailbox busy", "a@x.io")]),
     TemporaryFailure),
    (aiosmtplib.SMTPDataError(554, "rejected as spam"), PermanentFailure),
    (aiosmtplib.SMTPDataError(451, "try again later"), TemporaryFailure),
    (aiosmtplib.SMTPResponseException(421, "closing"), TemporaryFailure),
    (aiosmtplib.SMTPConnectError("connection refused"), TemporaryFailure),
    (aiosmtplib.SMTPConnectTimeoutError("timed out"), TemporaryFailure),
    (aiosmtplib.SMTPServerDisconnected("gone"), TemporaryFailure),
    (aiosmtplib.SMTPReadTimeoutError("slow"), TemporaryFailure),
    # our settings, not the message: retried (bounded) instead of failing every email at once
    (aiosmtplib.SMTPAuthenticationError(535, "bad credentials"), TemporaryFailure),
    (aiosmtplib.SMTPSenderRefused(550, "sender not allowed", "t@x.io"), TemporaryFailure),
    (TimeoutError(), TemporaryFailure),
    (ConnectionRefusedError(111, "refused"), TemporaryFailure),
])
def test_smtp_failures_are_sorted(exc, kind):
    failure = classify(exc)
    assert type(failure) is kind
    assert failure.reason


def test_a_permanent_refusal_keeps_the_server_answer():
    failure = classify(aiosmtplib.SMTPDataError(550, "5.7.1 message refused"))
    assert failure.reason == "550 5.7.1 message refused"


def test_the_email_has_text_html_and_attachments():
    tickets = [{"ticket_id": "t1", "label": "GA-1", "zone": "General", "qr_payload": "QR1"}]
    built = build_email(Email(
        message_id=message_id_for("0190-abc", "Taquilla <tickets@taquilla.example>"),
        recipient="ana@example.com", recipient_name="Ana\r\nBcc: x@y.z Pérez", subject="Tus entradas",
        text="Hola Ana", html="<p>Hola Ana</p>",
        attachments=(Attachment("tickets.json", "application/json", json.dumps(tickets)),),
    ), "Taquilla <tickets@taquilla.example>")
    parsed = email.message_from_bytes(built.as_bytes(), policy=policy.default)
    assert parsed["Message-ID"] == "<0190-abc@taquilla.example>"
    assert parsed["To"].addresses[0].addr_spec == "ana@example.com"
    assert parsed["To"].addresses[0].display_name == "Ana Bcc: x@y.z Pérez"  # no header injected
    assert parsed["Bcc"] is None
    assert parsed.get_body(("plain",)).get_content().strip() == "Hola Ana"
    assert parsed.get_body(("html",)).get_content().strip() == "<p>Hola Ana</p>"
    (attachment,) = list(parsed.iter_attachments())
    assert attachment.get_filename() == "tickets.json"
    assert json.loads(attachment.get_content()) == tickets
