"""The development SMTP sink, fed by a real SMTP client."""
import email
import email.policy
import logging
import re
import smtplib
from email.message import EmailMessage

import pytest
from taquilla_devtools.smtp_sink import SmtpSink


def ticket_mail(to: str, subject: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Taquilla <tickets@taquilla.local>"
    message["To"] = to
    message["Subject"] = subject
    message.set_content("Tus boletos para el Concierto de Demostración están adjuntos.")
    message.add_attachment(b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="boletos.pdf")
    return message


def test_each_email_is_saved_as_a_file_and_logged(tmp_path, free_port, caplog):
    folder = tmp_path / "mail"
    port = free_port()
    caplog.set_level(logging.INFO, logger="taquilla.mail")
    with SmtpSink(folder, port=port) as sink:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.send_message(ticket_mail("ana@example.com", "Tus boletos: TQ-0001"))
            client.send_message(ticket_mail("Beto <beto@example.com>", "Tus boletos: TQ-0002"),
                                to_addrs=["beto@example.com", "copia@example.com"])
        saved = sink.messages()

    assert [p.name for p in saved] == sorted(p.name for p in folder.iterdir())
    assert len(saved) == 2
    assert all(re.fullmatch(r"\d{8}T\d{6}\.\d{6}Z-[12]\.eml", p.name) for p in saved)
    assert [p.name.rsplit("-", 1)[1] for p in saved] == ["1.eml", "2.eml"]

    first = email.message_from_bytes(saved[0].read_bytes(), policy=email.policy.default)
    assert first["Subject"] == "Tus boletos: TQ-0001"
    assert first["X-Envelope-To"] == "ana@example.com"
    body, attachment = first.get_body(("plain",)), next(first.iter_attachments())
    assert "Concierto de Demostración" in body.get_content()
    assert attachment.get_filename() == "boletos.pdf" and attachment.get_content() == b"%PDF-1.4 fake"

    second = email.message_from_bytes(saved[1].read_bytes(), policy=email.policy.default)
    assert second["X-Envelope-To"] == "beto@example.com, copia@example.com"

    lines = [r.getMessage() for r in caplog.records if r.name == "taquilla.mail" and "saved as" in r.getMessage()]
    assert len(lines) == 2
    assert "to ana@example.com: 'Tus boletos: TQ-0001' saved as" in lines[0] and str(saved[0]) in lines[0]


def test_a_client_that_logs_in_is_accepted(tmp_path, free_port):
    port = free_port()
    with SmtpSink(tmp_path, port=port) as sink:
        with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
            client.login("notifications", "any-password")
            client.sendmail("a@example.com", ["b@example.com"], b"Subject: hola\r\n\r\nhola\r\n")
        assert len(sink.messages()) == 1


def test_a_port_in_use_is_reported(tmp_path, free_port):
    port = free_port()
    with SmtpSink(tmp_path / "one", port=port):
        with pytest.raises(OSError, match=f"could not listen on 127.0.0.1:{port}"):
            SmtpSink(tmp_path / "two", port=port).start()
