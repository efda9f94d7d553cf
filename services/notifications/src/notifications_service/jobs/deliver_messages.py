"""The delivery loop of the worker: due messages go out within about `delivery.poll_seconds`."""
from __future__ import annotations

import asyncio
import contextlib
import logging

from taquilla_platform.service import Container

from ..adapters.smtp import SmtpMailer
from ..adapters.text_messages import TextMessenger
from ..application.deliver_messages import Delivery

log = logging.getLogger("taquilla.notifications.delivery")


async def deliver_messages(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings
    mailer = SmtpMailer(settings.smtp)
    texts = TextMessenger(settings.provider)
    delivery = Delivery(container.db, mailer.send, mailer.message_id_for, settings.delivery, texts.send,
                        settings.unsubscribe_url)
    try:
        await _loop(delivery, settings, stop)
    finally:
        await texts.close()


async def _loop(delivery: Delivery, settings, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            claimed = await delivery.run_once()
        except Exception:
            log.exception("delivery batch failed; trying again")
            claimed = 0
        if claimed >= settings.delivery.batch_size:
            continue  # more may be due right now
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), settings.delivery.poll_seconds)
