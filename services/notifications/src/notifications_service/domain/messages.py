"""A notification message and its delivery rules. No I/O here.

A message is queued, claimed by a worker (sending, under a lease), then sent, queued again with a
growing delay after a temporary failure, or failed for good (permanent refusal, or attempts used up).
"""
from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    DELIVERED = "delivered"  # the provider confirmed it reached the phone
    FAILED = "failed"
    SUPPRESSED = "suppressed"  # the buyer opted out: recorded, never sent


class Channel(StrEnum):
    EMAIL = "email"
    SMS = "sms"
    WHATSAPP = "whatsapp"


class DeliveryFailure(Exception):
    """A provider did not take the message."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later: the provider was unreachable, slow, or said 4xx."""


class PermanentFailure(DeliveryFailure):
    """Trying again cannot help: the provider refused the message for good (5xx)."""


def retry_delay(attempts: int, *, base_seconds: float, max_seconds: float) -> float:
    """Exponential backoff after the `attempts`-th failed try: base, 2 x base, 4 x base ... capped."""
    return min(max_seconds, base_seconds * 2 ** max(0, attempts - 1))


# Deliberately loose: one @, something on both sides, a dot in the domain, no spaces or controls.
# The provider is the judge of the rest; this only keeps header injection and typos out.
_ADDRESS = re.compile(r"^[^@\s<>()\[\],;:\"\\]+@[^@\s<>()\[\],;:\"\\]+\.[^@\s<>()\[\],;:\"\\]+$")


def is_deliverable_address(address: str) -> bool:
    return len(address) <= 320 and _ADDRESS.fullmatch(address) is not None


_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")  # E.164


def is_phone_number(number: str) -> bool:
    return _PHONE.fullmatch(number) is not None



@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (tickets as JSON or PDF), stored as queued; binary content as base64."""

    filename: str
    content_type: str
    content: str
    encoding: str = "utf-8"  # or "base64"

    def as_dict(self) -> dict[str, str]:
        data = {"filename": self.filename, "content_type": self.content_type, "content": self.content}
        return data | ({"encoding": self.encoding} if self.encoding != "utf-8" else {})

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Attachment:
        return cls(data["filename"], data["content_type"], data["content"], data.get("encoding", "utf-8"))

    def payload(self) -> bytes:
        return base64.b64decode(self.content) if self.encoding == "base64" else self.content.encode()


@dataclass(frozen=True)
class Email:
    """Everything a provider needs to deliver one message to one recipient."""

    message_id: str  # stable across retries, so a receiver can tell a resend from a new message
    recipient: str
    recipient_name: str
    subject: str
    text: str
    html: str | None
    attachments: tuple[Attachment, ...] = ()
    headers: tuple[tuple[str, str], ...] = ()  # e.g. List-Unsubscribe on marketing messages
