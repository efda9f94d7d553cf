"""A cancelled order gives back what the catalog kept for it: the stage prices locked for its hold and the
promo code use counted for it. Runs on `orders.order.cancelled` (ours), so every cancellation the saga makes
(hold expired, payment failed, …) is covered, and a catalog that is down is retried by the bus."""
from __future__ import annotations

import uuid

from sqlalchemy import select
from taquilla_contracts import Envelope
from taquilla_contracts.orders import OrderCancelled
from taquilla_messaging import PermanentError
from taquilla_platform.auth import SERVICE, Principal, TokenService

from ..adapters.catalog_client import CatalogClient, CatalogRefused
from ..adapters.tables import orders
from ..config import Settings

ORDERS_SERVICE_USER = uuid.UUID("00000000-0000-7000-8000-0000000003d5")  # who the catalog sees calling


def service_token(settings: Settings) -> str:
    """Orders' own short-lived token for the catalog's purchase steps (stage allocations, promo redemptions),
    which catalog refuses to anyone else."""
    principal = Principal(ORDERS_SERVICE_USER, "orders@taquilla.internal", frozenset(), None, kind=SERVICE)
    return TokenService(settings.auth).issue(principal, ttl_seconds=60)[0]


async def release_catalog_pricing(settings: Settings, uow, envelope: Envelope, cancelled: OrderCancelled) -> None:
    order = (await uow.session.execute(
        select(orders.c.event_id, orders.c.hold_id, orders.c.promo_code, orders.c.resale)
        .where(orders.c.id == cancelled.order_id))).first()
    if order is None or order.resale:  # a resale order was priced by its listing, not by the catalog
        return
    catalog = CatalogClient(settings.catalog.base_url, settings.catalog.timeout_seconds)
    token = service_token(settings)
    try:
        try:
            await catalog.release_stages(token, order.event_id, order.hold_id)
        except CatalogRefused as refused:
            if refused.status != 404:  # the event is gone from sale: nothing left to give back
                raise
        if order.promo_code:
            await catalog.cancel_promo(token, order.event_id, order.promo_code, str(cancelled.order_id))
    except CatalogRefused as refused:  # a refusal will not change on retry: park it where people see it
        raise PermanentError(f"catalog refused to give back order {cancelled.order_id}'s pricing: {refused}") \
            from refused
    finally:
        await catalog.close()
