"""Runs the durable timers of orders paid in parts (`orders.run_plan_timer`, written to the outbox by
plan_saga.py, delivered when due): with the saga row locked, a timer of an order no longer paying in parts
(paid in full, ended at its deadline, or cancelled by the buyer or staff) does nothing."""
from __future__ import annotations

import logging

from taquilla_contracts import Envelope
from taquilla_contracts.orders import RunPlanTimer

from ..adapters.inventory_client import InventoryClient
from ..config import Settings
from ..domain.orders import SagaState
from .plan_saga import DEADLINE, KEEP_HOLD, REMIND, deadline_passed, keep_hold, remind
from .saga import SagaContext, lock_saga

log = logging.getLogger("taquilla.orders.plans")


class PlanTimers:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._inventory: InventoryClient | None = None

    @property
    def inventory(self) -> InventoryClient:  # made in the consumer's event loop, on the first renewal
        if self._inventory is None:
            self._inventory = InventoryClient(self.settings.inventory.target, self.settings.inventory.timeout_seconds)
        return self._inventory

    async def __call__(self, uow, envelope: Envelope, timer: RunPlanTimer) -> None:
        state, order = await lock_saga(uow, timer.order_id)
        if state is not SagaState.PAYING_IN_PARTS:
            log.info("%s timer of order %s ignored: it is %s", timer.timer, timer.order_id, state)
            return
        ctx = SagaContext(uow, order, state, envelope)
        if timer.timer == KEEP_HOLD:
            await keep_hold(ctx, self.inventory, self.settings.holds.max_ttl_seconds)
        elif timer.timer == REMIND:
            await remind(ctx, timer.installment)
        elif timer.timer == DEADLINE:
            await deadline_passed(ctx)
        else:
            log.error("unknown plan timer %r for order %s", timer.timer, timer.order_id)
