"""Everything tickets consumes, in one place."""
from taquilla_contracts.orders import IssueTickets
from taquilla_messaging import Subscriptions

from ...adapters.key_vault import KeyVault
from ...application.issue_tickets import issue_tickets


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("tickets")
    vault = KeyVault(settings.signing.master_key)

    @subs.on(IssueTickets)
    async def _issue(uow, envelope, command):
        await issue_tickets(uow, envelope, command, vault)

    return subs
