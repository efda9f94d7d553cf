"""Re-drive sagas whose forward step went unanswered: a publisher confirm is never the only record.

A saga past the payment pivot that has not moved for `saga_stall_seconds` gets its current step's
command written to the outbox again; receivers are idempotent, so a duplicate does no harm.
"""
from __future__ import annotations

import logging

from sqlalchemy import func, select, text, update
from taquilla_contracts import Envelope
from taquilla_messaging import publish
from taquilla_platform.service import run_every

from ..adapters.tables import bus, orders, purchase_sagas
from ..application.refunds import redrive_stalled_refunds
from ..application.saga import PENDING_COMMAND
from ..domain.orders import FORWARD_STATES, SagaState

log = logging.getLogger("taquilla.orders.reconciler")


async def redrive_stalled_sagas(db, stall_seconds: int, batch: int = 100) -> int:
    async with db.unit_of_work(system=True) as uow:
        stalled = (await uow.session.execute(
            select(purchase_sagas.c.order_id, purchase_sagas.c.state)
            .where(purchase_sagas.c.state.in_([s.value for s in FORWARD_STATES]),
                   purchase_sagas.c.updated_at < func.now() - text(f"interval '{int(stall_seconds)} seconds'"))
            .order_by(purchase_sagas.c.updated_at).limit(batch).with_for_update(skip_locked=True))).all()
        for saga in stalled:
            order = (await uow.session.execute(select(orders).where(orders.c.id == saga.order_id))).one()
            command = PENDING_COMMAND[SagaState(saga.state)](order)
            await publish(uow.session, bus, Envelope.wrap(command, source="orders", tenant_id=order.tenant_id,
                                                          correlation_id=str(order.id)))
            await uow.session.execute(update(purchase_sagas).where(purchase_sagas.c.order_id == saga.order_id)
                                      .values(step_attempts=purchase_sagas.c.step_attempts + 1,
                                              updated_at=func.now()))
            log.warning("re-sent %s for order %s (state %s)", command.TYPE, order.id, saga.state)
        await uow.commit()
    return len(stalled)


async def run_reconciler(container, stop) -> None:
    stall = container.settings.saga_stall_seconds

    async def redrive() -> None:
        await redrive_stalled_sagas(container.db, stall)
        await redrive_stalled_refunds(container.db, stall)

    await run_every(max(1.0, stall / 3), stop, redrive, log=log)
