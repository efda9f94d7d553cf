"""Everything the catalog consumes, in one place."""
from datetime import UTC, datetime

from taquilla_contracts.gateway import TenantRegistered
from taquilla_contracts.inventory import HoldConfirmed, HoldExpired
from taquilla_messaging import PermanentError, Subscriptions

from ...application.register_organizer import record_organizer
from ...application.stages import confirm_hold, release_hold


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("catalog")

    @subs.on(TenantRegistered)
    async def _organizer(uow, envelope, tenant):
        await record_organizer(uow, envelope, tenant)

    # stage allotments follow the holds they were locked for: sold when confirmed, returned when expired
    @subs.on(HoldConfirmed)
    async def _hold_confirmed(uow, envelope, hold):
        if envelope.tenant_id is None:
            raise PermanentError("inventory.hold.confirmed needs the organizer as tenant_id")
        await uow.set_tenant(envelope.tenant_id)
        await confirm_hold(uow.session, envelope.tenant_id, hold.hold_id)

    @subs.on(HoldExpired)
    async def _hold_expired(uow, envelope, hold):
        if envelope.tenant_id is None:
            raise PermanentError("inventory.hold.expired needs the organizer as tenant_id")
        await uow.set_tenant(envelope.tenant_id)
        await release_hold(uow.session, envelope.tenant_id, hold.hold_id, datetime.now(UTC))

    return subs
