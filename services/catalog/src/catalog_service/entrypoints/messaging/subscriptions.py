"""Everything the catalog consumes, in one place."""
from taquilla_contracts.gateway import TenantRegistered
from taquilla_messaging import Subscriptions

from ...application.register_organizer import record_organizer


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("catalog")

    @subs.on(TenantRegistered)
    async def _organizer(uow, envelope, tenant):
        await record_organizer(uow, envelope, tenant)

    return subs
