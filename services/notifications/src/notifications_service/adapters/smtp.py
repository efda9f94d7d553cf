"""Email through SMTP (aiosmtplib): one connection per message, failures sorted into temporary or permanent."""
from __future__ import annotations

from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formatdate, parseaddr

import aiosmtplib

from ..config import SmtpSettings
from ..domain.messages import Email, PermanentFailure, TemporaryFailure


def build_email(email: Email, from_address: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = from_address
    message["To"] = Address(display_name=" ".join(email.recipient_name.split()), addr_spec=email.recipient)
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = email.message_id
    message["Auto-Submitted"] = "auto-generated"  # no vacation replies to a ticket email
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.text)
    if email.html is not None:
        message.add_alternative(email.html, subtype="html")
    for attachment in email.attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        message.add_attachment(attachment.payload(), maintype=maintype, subtype=subtype,
                               filename=attachment.filename)
    return message


def message_id_for(message_id: object, from_address: str) -> str:
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "taquilla.local"
    return f"<{message_id}@{domain}>"


def classify(exc: Exception) -> TemporaryFailure | PermanentFailure:
    """Only a 5xx refusal of this message (its recipient or its content) is permanent.

    Connection, greeting, login and sender errors say more about the provider or our settings than
    about the message, so they are retried (bounded by max_attempts) rather than failing every email.
    """
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        codes = [refused.code for refused in exc.recipients]
        reason = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients) or "recipients refused"
        return PermanentFailure(reason) if codes and all(c >= 500 for c in codes) else TemporaryFailure(reason)
    if isinstance(exc, aiosmtplib.SMTPRecipientRefused | aiosmtplib.SMTPDataError):
        reason = f"{exc.code} {exc.message}"
        return PermanentFailure(reason) if exc.code >= 500 else TemporaryFailure(reason)
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return TemporaryFailure(f"{type(exc).__name__}: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPException):
        return TemporaryFailure(f"{type(exc).__name__}: {exc.message}")
    if isinstance(exc, TimeoutError):
        return TemporaryFailure("the SMTP server did not answer in time")
    return TemporaryFailure(f"{type(exc).__name__}: {exc}")


class SmtpMailer:
    def __init__(self, settings: SmtpSettings):
        self.settings = settings
        self.sender = parseaddr(settings.from_address)[1]

    def message_id_for(self, message_id: object) -> str:
        return message_id_for(message_id, self.settings.from_address)

    async def send(self, email: Email) -> str:
        """Deliver one email; returns the server's answer or raises TemporaryFailure/PermanentFailure."""
        s = self.settings
        try:
            _, response = await aiosmtplib.send(
                build_email(email, s.from_address), sender=self.sender, recipients=[email.recipient],
                hostname=s.host, port=s.port, username=s.username,
                password=s.password.get_secret_value() if s.password else None,
                use_tls=s.use_tls, start_tls=s.starttls, timeout=s.timeout,
            )
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
            raise classify(exc) from exc
        return response
