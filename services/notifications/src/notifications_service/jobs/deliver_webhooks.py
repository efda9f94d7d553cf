"""The webhook loop of the worker: keeps up to `max_in_flight` requests going, refilling as they finish.

Each delivery runs as its own task, so a slow receiver never holds a batch back; the claim caps how
many of those tasks one endpoint may have.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging

import httpx
from taquilla_platform.service import Container

from ..adapters.templates import TemplateRenderer
from ..application.deliver_webhooks import WebhookDelivery

log = logging.getLogger("taquilla.notifications.webhooks")


async def deliver_webhooks(container: Container, stop: asyncio.Event) -> None:
    settings = container.settings
    w = settings.webhooks
    limits = httpx.Limits(max_connections=w.max_in_flight, max_keepalive_connections=w.max_in_flight)
    async with httpx.AsyncClient(timeout=httpx.Timeout(w.timeout_seconds), limits=limits,
                                 follow_redirects=False) as client:
        delivery = WebhookDelivery(container.db, client, w, TemplateRenderer(),
                                   default_language=settings.default_language,
                                   allow_local=settings.allow_local_webhook_urls)
        in_flight: set[asyncio.Task] = set()
        stopping = asyncio.create_task(stop.wait())
        try:
            while not stop.is_set():
                free = w.max_in_flight - len(in_flight)
                claimed = []
                if free > 0:
                    try:
                        claimed = await delivery.claim_due(free)
                    except Exception:
                        log.exception("claiming webhook deliveries failed; trying again")
                for item in claimed:
                    task = asyncio.create_task(_guarded(delivery, item))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if claimed and len(claimed) == free:
                    continue  # more may be due right now
                await asyncio.wait({stopping, *in_flight}, timeout=w.poll_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            if in_flight:  # a request cut short here is retried once its lease has passed
                await asyncio.wait(in_flight, timeout=w.timeout_seconds)
                for task in in_flight:
                    task.cancel()


async def _guarded(delivery: WebhookDelivery, item) -> None:
    with contextlib.suppress(asyncio.CancelledError):
        try:
            await delivery.deliver(item)
        except Exception:  # e.g. the database went away: the lease brings the delivery back
            log.exception("webhook delivery %s: recording the outcome failed", item.id)
