"""Everything fiscal consumes, in one place."""
from taquilla_contracts.catalog import EventPublished
from taquilla_contracts.gateway import TenantRegistered
from taquilla_contracts.orders import IssueCreditNote, IssueFiscalDocument, OrderPlaced
from taquilla_messaging import Subscriptions

from ...application.credit_notes import credit_refund
from ...application.issue_document import issue_fiscal_documents, record_event, record_order
from ...application.organizers import record_organizer


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("fiscal")

    @subs.on_batch(IssueFiscalDocument)  # invoices of one organizer share a transaction when they queue
    async def _issue(uow, commands):
        await issue_fiscal_documents(uow, commands, settings)

    @subs.on(IssueCreditNote)
    async def _credit(uow, envelope, command):
        await credit_refund(uow, envelope, command, settings)

    @subs.on(TenantRegistered)
    async def _organizer(uow, envelope, registered):
        await record_organizer(uow, registered)

    @subs.on(OrderPlaced)
    async def _order(uow, envelope, placed):
        await record_order(uow, placed)

    @subs.on(EventPublished)
    async def _event(uow, envelope, published):
        await record_event(uow, published)

    return subs
