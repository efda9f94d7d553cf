from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy import select

from ..adapters.order_changes import OrderChanges
from ..adapters.tables import orders, purchase_sagas, saga_transitions
from ..domain.orders import FINAL_STATES, SagaState, extensions_left, order_status
from ..domain.payment_plans import plan_view
from .refunds import order_refunds


def _iso(value):
    return value.isoformat() if hasattr(value, "isoformat") else value


def order_view(order, state: SagaState, transitions: list) -> dict:
    o = order if isinstance(order, dict) else order._mapping
    fiscal = o.get("fiscal_document") or None
    return {
        "id": str(o["id"]), "code": o["code"], "status": order_status(state, o["total_minor"], o.get("refunded_minor") or 0), "saga_state": state.value,
        "tenant_id": str(o["tenant_id"]), "event_id": str(o["event_id"]), "event_title": o["event_title"],
        "session_id": str(o["session_id"]), "session_starts_at": _iso(o["session_starts_at"]),
        "buyer": o["buyer"], "lines": o["lines"], "total_minor": o["total_minor"], "currency": o["currency"],
        "hold_expires_at": _iso(o["hold_expires_at"]), "extensions_left": extensions_left(state, o),
        "promo_code": o.get("promo_code"), "pricing": o.get("pricing"),
        "discount_minor": -((o.get("pricing") or {}).get("totals") or {}).get("promo_discount_minor", 0),
        "payment": o.get("payment"), "cancel_reason": o.get("cancel_reason"),
        "refunded_minor": o.get("refunded_minor") or 0,
        "fiscal_number": fiscal["formatted_number"] if fiscal else None, "fiscal_document": fiscal,
        "units": o.get("units") or [], "tickets": o.get("tickets") or [],
        "resale": o.get("resale"), "payment_plan": plan_view(o.get("plan"), o["total_minor"]),
        "created_at": _iso(o.get("created_at")),
        "timeline": [{"from": t.from_state, "to": t.to_state, "cause": t.cause, "at": t.occurred_at.isoformat()}
                     for t in transitions],
    }


async def find_order(session, order_id: uuid.UUID) -> dict | None:
    row = (await session.execute(
        select(orders, purchase_sagas.c.state).join(purchase_sagas, purchase_sagas.c.order_id == orders.c.id)
        .where(orders.c.id == order_id))).first()
    if row is None:
        return None
    transitions = (await session.execute(
        select(saga_transitions).where(saga_transitions.c.order_id == order_id).order_by(saga_transitions.c.id)
    )).all()
    return order_view(row, SagaState(row.state), transitions) | {"refunds": await order_refunds(session, order_id)}


MAX_WAIT_SECONDS = 25  # below the gateway's upstream read timeout (30 s)
SETTLED_STATES = FINAL_STATES | {SagaState.REFUND_REQUIRED}  # a waiting buyer has nothing more to wait for


async def wait_for_order(db, changes: OrderChanges, order_id: uuid.UUID, wait_seconds: float,
                         may_see: Callable[[dict], bool]) -> dict | None:
    """The order once its saga is settled, or as it is after `wait_seconds`; read again when its saga moves to a
    settled state (each move says which), holding no database connection in between. At once when there is no
    such order or `may_see` refuses it."""
    async def read() -> dict | None:
        async with db.unit_of_work(system=True) as uow:
            return await find_order(uow.session, order_id)

    return await changes.wait_for(order_id, read, lambda order: order is None or not may_see(order)
                                  or SagaState(order["saga_state"]) in SETTLED_STATES, wait_seconds,
                                  worth_reading=_settles)


def _settles(state: str) -> bool:
    try:
        return SagaState(state) in SETTLED_STATES
    except ValueError:  # a state this process does not know yet (a newer version moved it): read and see
        return True


async def buyer_orders(session, buyer_user_id: uuid.UUID, limit: int) -> list[dict]:
    rows = (await session.execute(
        select(orders, purchase_sagas.c.state).join(purchase_sagas, purchase_sagas.c.order_id == orders.c.id)
        .where(orders.c.buyer_user_id == buyer_user_id).order_by(orders.c.created_at.desc()).limit(limit))).all()
    return [order_view(row, SagaState(row.state), []) for row in rows]
