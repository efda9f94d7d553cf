"""More time to pay, once: the buyer of an order awaiting payment extends its hold in inventory."""
from __future__ import annotations

import math
import uuid
from datetime import UTC, datetime

from sqlalchemy import update
from taquilla_contracts import Envelope
from taquilla_contracts.orders import OrderHoldExtended
from taquilla_messaging import publish
from taquilla_platform.auth import Principal
from taquilla_platform.problems import Problem, not_found

from ..adapters.inventory_client import InventoryClient, InventoryRefused, InventoryUnavailable
from ..adapters.tables import bus, orders
from ..config import HoldRules
from ..domain.orders import HOLD_EXTENSIONS_ALLOWED, SagaState
from .queries import find_order
from .saga import lock_saga, record_transition


async def extend_order_hold(db, inventory: InventoryClient, rules: HoldRules, principal: Principal,
                            order_id: uuid.UUID) -> dict:
    async with db.unit_of_work(system=True) as uow:
        state, order = await lock_saga(uow, order_id)  # the saga's own lock: an expiry cannot cross us
        if order is None or order.buyer_user_id != principal.user_id:
            raise not_found("Order", order_id)
        if state is not SagaState.AWAITING_PAYMENT:
            raise Problem(409, "not-awaiting-payment", "Only an order awaiting payment can get more time",
                          f"The order is {state.value}")
        if order.resale:
            raise Problem(409, "not-extendable", "A resale order cannot get more time",
                          "Another buyer may be waiting for this ticket", field="order_id")
        if order.hold_extensions >= HOLD_EXTENSIONS_ALLOWED:
            raise Problem(409, "extension-used", "The hold was already extended",
                          f"An order's hold can be extended {HOLD_EXTENSIONS_ALLOWED} time(s)")
        left = (order.hold_expires_at - datetime.now(UTC)).total_seconds()
        if left <= 0:
            raise Problem(409, "hold-expired", "The hold has expired", "Place the order again")
        ttl = min(rules.max_ttl_seconds, math.ceil(left) + rules.extension_seconds)
        try:
            held = await inventory.extend(hold_id=order.hold_id, tenant_id=order.tenant_id, ttl_seconds=ttl)
        except InventoryRefused as refused:
            raise Problem(409, "hold-expired" if refused.reason in ("hold_expired", "hold_released") else
                          refused.reason.replace("_", "-") or "hold-not-extended",
                          "The hold cannot be extended", refused.detail) from None
        except InventoryUnavailable as exc:
            raise Problem(503, "inventory-unavailable", "The hold cannot be extended right now",
                          "Try again in a moment", headers={"Retry-After": "1"}) from exc
        await uow.session.execute(update(orders).where(orders.c.id == order_id).values(
            hold_expires_at=held.expires_at, hold_extensions=orders.c.hold_extensions + 1))
        await record_transition(uow, order.tenant_id, order_id, state, state, "orders.extend_hold",
                                note=f"hold extended to {held.expires_at.isoformat()}")
        extended = OrderHoldExtended(order_id=order_id, code=order.code, hold_expires_at=held.expires_at)
        await publish(uow.session, bus, Envelope.wrap(extended, source="orders", tenant_id=order.tenant_id,
                                                      correlation_id=str(order_id)))  # payments' deadline too
        await uow.commit()
    async with db.unit_of_work(system=True) as uow:
        return await find_order(uow.session, order_id)
