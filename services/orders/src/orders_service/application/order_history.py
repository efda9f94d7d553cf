"""Lists of orders: a buyer's own (every organizer), and an organizer's search (its tenant only, through
row-level security). Newest first, cursor paging on (created_at, id)."""
from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, func, or_, select
from taquilla_platform.problems import Problem

from ..adapters.tables import orders, purchase_sagas
from ..domain.orders import FORWARD_STATES, SagaState
from .queries import order_view

STATUSES = ("awaiting_payment", "paying_in_parts", "paid", "completed", "partially_refunded", "refunded", "cancelled",
            "refund_required")


def status_condition(status: str):
    state, refunded = purchase_sagas.c.state, orders.c.refunded_minor
    if status == "paid":
        return state.in_([s.value for s in FORWARD_STATES])
    if status == "completed":
        return and_(state == SagaState.COMPLETED.value, refunded == 0)
    if status == "partially_refunded":
        return and_(state == SagaState.COMPLETED.value, refunded > 0, refunded < orders.c.total_minor)
    if status == "refunded":
        return or_(state == "refunded",
                   and_(state == SagaState.COMPLETED.value, refunded > 0, refunded >= orders.c.total_minor))
    return state == status


def encode_cursor(created_at: datetime, order_id) -> str:
    raw = json.dumps([created_at.isoformat(), str(order_id)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        created_at, order_id = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        return datetime.fromisoformat(created_at), uuid.UUID(order_id)
    except (ValueError, TypeError) as exc:
        raise Problem(400, "invalid-cursor", "The cursor is not valid",
                      "Pass back the next_cursor of a previous page unchanged", field="cursor") from exc


@dataclass(frozen=True)
class OrderFilter:
    status: str | None = None
    code: str | None = None
    email: str | None = None
    national_id: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    event_ids: frozenset[str] | None = None  # an operator limited to some events

    def conditions(self) -> list:
        found = []
        if self.status:
            found.append(status_condition(self.status))
        if self.code:
            found.append(orders.c.code == self.code.strip().upper())
        if self.email:
            found.append(func.lower(orders.c.buyer["email"].astext) == self.email.strip().lower())
        if self.national_id:
            found.append(orders.c.buyer["national_id"].astext == self.national_id)
        if self.created_from:
            found.append(orders.c.created_at >= self.created_from)
        if self.created_to:
            found.append(orders.c.created_at < self.created_to)
        if self.event_ids is not None:
            found.append(orders.c.event_id.in_([uuid.UUID(e) for e in self.event_ids]))
        return found


async def order_page(session, where: list, limit: int, cursor: str | None) -> dict:
    query = (select(orders, purchase_sagas.c.state)
             .join(purchase_sagas, purchase_sagas.c.order_id == orders.c.id).where(*where))
    if cursor:
        created_at, order_id = decode_cursor(cursor)
        query = query.where(or_(orders.c.created_at < created_at,
                                and_(orders.c.created_at == created_at, orders.c.id < order_id)))
    rows = (await session.execute(
        query.order_by(orders.c.created_at.desc(), orders.c.id.desc()).limit(limit + 1))).all()
    page = rows[:limit]
    return {"items": [order_view(row, SagaState(row.state), []) for row in page],
            "next_cursor": encode_cursor(page[-1].created_at, page[-1].id) if len(rows) > limit else None}


async def buyer_history(db, buyer_user_id: uuid.UUID, status: str | None, limit: int, cursor: str | None) -> dict:
    async with db.unit_of_work(system=True) as uow:  # a buyer's orders span organizers
        where = [orders.c.buyer_user_id == buyer_user_id, *OrderFilter(status=status).conditions()]
        return await order_page(uow.session, where, limit, cursor)


async def search_tenant_orders(db, tenant_id: uuid.UUID, search: OrderFilter, limit: int,
                               cursor: str | None) -> dict:
    async with db.unit_of_work(tenant_id) as uow:  # row-level security keeps other organizers' orders out
        return await order_page(uow.session, search.conditions(), limit, cursor)
