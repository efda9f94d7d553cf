"""Deliver queued messages: claim a batch under a lease, send each, record the outcome.

The claim commits before any SMTP conversation, so no transaction stays open on the network. Marking
a message sent and publishing `notifications.message.sent` happen in one transaction. `attempts`,
raised at each claim, fences a worker whose lease ran out: its late outcome is not recorded.
"""
from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from opentelemetry.trace import SpanKind, StatusCode
from opentelemetry.trace import Status as SpanStatus
from prometheus_client import Counter
from sqlalchemy import func, select, update
from taquilla_contracts import Envelope
from taquilla_contracts.notifications import MessageSent
from taquilla_messaging import publish
from taquilla_messaging.tracing import context_from, tracer
from taquilla_platform.database import Database

from ..adapters.tables import bus, messages
from ..config import DeliverySettings
from ..domain.messages import (
    Attachment,
    Channel,
    DeliveryFailure,
    Email,
    PermanentFailure,
    Status,
    TemporaryFailure,
    retry_delay,
)
from .account_emails import PLATFORM_TENANT, SENSITIVE_TEMPLATES, WITHHELD

log = logging.getLogger("taquilla.notifications.delivery")
OUTCOMES = Counter("taquilla_notifications_deliveries_total", "Delivery attempts by outcome",
                   ["channel", "outcome"])

Send = Callable[[Email], Awaitable[str]]
SendText = Callable[[str, str, str], Awaitable[str]]  # (channel, phone, body) → the provider's message id


@dataclass(frozen=True)
class ClaimedMessage:
    id: uuid.UUID
    tenant_id: uuid.UUID
    order_id: uuid.UUID | None
    channel: str
    template: str
    recipient: str
    recipient_name: str
    subject: str
    body_text: str
    body_html: str | None
    attachments: list[dict]
    attempts: int  # including this one; the fencing token of this claim
    correlation_id: str | None
    causation_id: uuid.UUID | None
    trace_headers: dict
    category: str = "transactional"


def message_sent(message: ClaimedMessage) -> Envelope:
    """`notifications.message.sent`, in the conversation of the message that asked for the email."""
    sent = MessageSent(message_id=message.id, order_id=message.order_id, channel=message.channel,
                       template=message.template, recipient=message.recipient)
    tenant_id = None if message.tenant_id == PLATFORM_TENANT else message.tenant_id  # an account email
    envelope = Envelope.wrap(sent, source="notifications", tenant_id=tenant_id,
                             correlation_id=message.correlation_id)
    return envelope.model_copy(update={"causation_id": message.causation_id})


class Delivery:
    def __init__(self, db: Database, send: Send, message_id_for: Callable[[uuid.UUID], str],
                 settings: DeliverySettings, send_text: SendText | None = None,
                 unsubscribe_url: Callable[[uuid.UUID, str], str] | None = None):
        self.db = db
        self.unsubscribe_url = unsubscribe_url
        self.send = send
        self.send_text = send_text
        self.message_id_for = message_id_for
        self.settings = settings

    async def run_once(self) -> int:
        """Claim and deliver one batch; returns how many messages were claimed."""
        claimed = await self.claim_due()
        if claimed:
            limit = asyncio.Semaphore(self.settings.concurrency)

            async def deliver(message: ClaimedMessage) -> None:
                async with limit:
                    await self.deliver(message)

            results = await asyncio.gather(*(deliver(message) for message in claimed), return_exceptions=True)
            for message, result in zip(claimed, results, strict=True):
                if isinstance(result, Exception):  # e.g. the database went away: the lease brings it back
                    log.error("message %s: recording the outcome failed: %r", message.id, result)
        return len(claimed)

    async def claim_due(self) -> list[ClaimedMessage]:
        s = self.settings
        m = messages
        async with self.db.unit_of_work(system=True) as uow:
            rows = (await uow.session.execute(
                select(m).where(m.c.status.in_([Status.QUEUED, Status.SENDING]), m.c.next_attempt_at <= func.now())
                .order_by(m.c.next_attempt_at).limit(s.batch_size).with_for_update(skip_locked=True)
            )).all()
            claimed: list[ClaimedMessage] = []
            for row in rows:
                if row.status == Status.SENDING:
                    log.warning("message %s: the lease of attempt %d expired; the worker may have died mid-send",
                                row.id, row.attempts)
                    if row.attempts >= s.max_attempts:
                        await uow.session.execute(update(m).where(m.c.id == row.id).values(
                            status=Status.FAILED, updated_at=func.now(),
                            last_error=f"gave up after {row.attempts} attempts: the last one never finished"))
                        continue
                await uow.session.execute(update(m).where(m.c.id == row.id).values(
                    status=Status.SENDING, attempts=row.attempts + 1, updated_at=func.now(),
                    next_attempt_at=func.now() + timedelta(seconds=s.lease_seconds)))
                claimed.append(ClaimedMessage(
                    id=row.id, tenant_id=row.tenant_id, order_id=row.order_id, channel=row.channel,
                    template=row.template, recipient=row.recipient, recipient_name=row.recipient_name,
                    subject=row.subject, body_text=row.body_text, body_html=row.body_html,
                    attachments=row.attachments, attempts=row.attempts + 1, correlation_id=row.correlation_id,
                    causation_id=row.causation_id, trace_headers=row.trace_headers, category=row.category,
                ))
            await uow.commit()
        return claimed

    def unsubscribe_headers(self, message: ClaimedMessage) -> tuple[tuple[str, str], ...]:
        """RFC 8058 one-click unsubscribe on marketing email, as mailbox providers require of bulk senders."""
        if message.category != "marketing" or self.unsubscribe_url is None:
            return ()
        return (("List-Unsubscribe", f"<{self.unsubscribe_url(message.tenant_id, message.recipient)}>"),
                ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"))

    async def deliver(self, message: ClaimedMessage) -> None:
        with tracer.start_as_current_span(
            f"{message.channel} {message.template} send", context=context_from(message.trace_headers),
            kind=SpanKind.CLIENT, attributes={"taquilla.notification.id": str(message.id),
                                              "taquilla.notification.attempt": message.attempts},
        ) as span:
            email = Email(
                message_id=self.message_id_for(message.id), recipient=message.recipient,
                recipient_name=message.recipient_name, subject=message.subject, text=message.body_text,
                html=message.body_html, attachments=tuple(Attachment.from_dict(a) for a in message.attachments),
                headers=self.unsubscribe_headers(message),
            )
            try:
                # cut off well inside the lease, so a slow send never overlaps another worker's retry
                async with asyncio.timeout(self.settings.lease_seconds / 2):
                    if message.channel == Channel.EMAIL:
                        response = await self.send(email)
                    elif self.send_text is None:
                        raise PermanentFailure(f"no {message.channel} provider in this worker")
                    else:
                        response = await self.send_text(message.channel, message.recipient, message.body_text)
            except DeliveryFailure as failure:
                span.set_status(SpanStatus(StatusCode.ERROR, failure.reason))
                await self.record_failure(message, failure)
            except TimeoutError:
                span.set_status(SpanStatus(StatusCode.ERROR, "timed out"))
                await self.record_failure(message, TemporaryFailure("sending took longer than half the lease"))
            except Exception as exc:  # a bug or a surprise: keep the message, retry later, say what happened
                log.exception("message %s: unexpected error while sending", message.id)
                span.record_exception(exc)
                await self.record_failure(message, TemporaryFailure(f"{type(exc).__name__}: {exc}"))
            else:
                await self.record_sent(message, response)

    async def record_sent(self, message: ClaimedMessage, response: str) -> None:
        recorded = {} if message.channel == Channel.EMAIL else {"provider_message_id": response[:100]}
        async with self.db.unit_of_work(message.tenant_id) as uow:
            if message.template in SENSITIVE_TEMPLATES:  # the one-time link is the recipient's alone now
                recorded |= {"body_text": WITHHELD, "body_html": None}
            if not await self._update_claimed(uow.session, message, status=Status.SENT, sent_at=func.now(),
                                              last_error=None, **recorded):
                return
            await publish(uow.session, bus, message_sent(message))
            await uow.commit()
        OUTCOMES.labels(message.channel, "sent").inc()
        log.info("message %s sent (attempt %d): %s", message.id, message.attempts, response)

    async def record_failure(self, message: ClaimedMessage, failure: DeliveryFailure) -> None:
        s = self.settings
        if isinstance(failure, PermanentFailure):
            values = {"status": Status.FAILED, "last_error": failure.reason}
            outcome = "refused"
        elif message.attempts >= s.max_attempts:
            values = {"status": Status.FAILED,
                      "last_error": f"gave up after {message.attempts} attempts: {failure.reason}"}
            outcome = "gave_up"
        else:
            delay = retry_delay(message.attempts, base_seconds=s.backoff_base_seconds,
                                max_seconds=s.backoff_max_seconds)
            values = {"status": Status.QUEUED, "last_error": failure.reason,
                      "next_attempt_at": func.now() + timedelta(seconds=delay)}
            outcome = "retry"
        async with self.db.unit_of_work(message.tenant_id) as uow:
            if await self._update_claimed(uow.session, message, **values):
                await uow.commit()
        OUTCOMES.labels(message.channel, outcome).inc()
        log.warning("message %s, attempt %d: %s (%s)", message.id, message.attempts, failure.reason, outcome)

    async def _update_claimed(self, session, message: ClaimedMessage, **values) -> bool:
        m = messages
        updated = (await session.execute(
            update(m).where(m.c.id == message.id, m.c.status == Status.SENDING, m.c.attempts == message.attempts)
            .values(updated_at=func.now(), **values).returning(m.c.id)
        )).first()
        if updated is None:
            log.warning("message %s: attempt %d lost its lease before finishing; its outcome is not recorded",
                        message.id, message.attempts)
        return updated is not None
