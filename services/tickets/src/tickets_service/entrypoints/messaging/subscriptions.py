"""Everything tickets consumes, in one place."""
from taquilla_contracts.gateway import TenantRegistered
from taquilla_contracts.orders import IssueTickets
from taquilla_contracts.tickets import ConfirmResale, ReleaseListing, VoidTickets
from taquilla_messaging import Subscriptions

from ...adapters.key_vault import KeyVault
from ...application.issue_tickets import issue_tickets
from ...application.organizers import record_organizer
from ...application.resale import confirm_resale, release_listing
from ...application.void_tickets import void_tickets


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("tickets")
    vault = KeyVault(settings.signing.master_key)

    @subs.on(IssueTickets)
    async def _issue(uow, envelope, command):
        await issue_tickets(uow, envelope, command, vault)

    @subs.on(VoidTickets)
    async def _void(uow, envelope, command):
        await void_tickets(uow, envelope, command)

    subs.on(ConfirmResale)(confirm_resale)
    subs.on(ReleaseListing)(release_listing)

    @subs.on(TenantRegistered)
    async def _organizer(uow, envelope, event):
        await uow.set_tenant(event.tenant_id)  # the row is the organizer's own, whatever the envelope says
        await record_organizer(uow.session, event)

    return subs
