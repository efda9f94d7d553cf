"""Everything fiscal consumes, in one place."""
from taquilla_contracts.orders import IssueFiscalDocument
from taquilla_messaging import Subscriptions

from ...application.issue_document import issue_fiscal_document


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("fiscal")

    @subs.on(IssueFiscalDocument)
    async def _issue(uow, envelope, command):
        await issue_fiscal_document(uow, envelope, command, settings)

    return subs
