"""A notification message and its delivery rules. No I/O here.

A message is queued, claimed by a worker (sending, under a lease), then sent, queued again with a
growing delay after a temporary failure, or failed for good (permanent refusal, or attempts used up).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"


class Channel(StrEnum):
    EMAIL = "email"


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



@dataclass(frozen=True)
class Attachment:
    """A file sent with a message (tickets as JSON, calendar entries): text, stored as queued."""

    filename: str
    content_type: str
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"filename": self.filename, "content_type": self.content_type, "content": self.content}

    @classmethod
    def from_dict(cls, data: dict[str, str]) -> Attachment:
        return cls(data["filename"], data["content_type"], data["content"])


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
