"""Everything notifications consumes, in one place: messages to buyers and webhooks to partners."""
from taquilla_contracts.catalog import EventPublished, EventStatusChanged
from taquilla_contracts.gateway import PasswordResetRequested, TenantRegistered, UserVerificationRequested
from taquilla_contracts.inventory import WaitlistOffered
from taquilla_contracts.orders import (
    InstallmentDue,
    OrderCancelled,
    OrderCompleted,
    OrderPlaced,
    OrderRefunded,
)
from taquilla_contracts.payments import PaymentCaptured, PaymentFailed
from taquilla_contracts.tickets import TicketCheckedIn, TicketsIssued, TicketTransferred
from taquilla_messaging import Subscriptions

from ...adapters.templates import TemplateRenderer
from ...application.account_emails import queue_account_email
from ...application.buyer_messages import (
    queue_event_cancelled,
    queue_event_changed,
    queue_installment_reminder,
    queue_order_cancelled,
    queue_refund_issued,
)
from ...application.payment_messages import queue_payment_received
from ...application.queue_order_confirmation import queue_order_confirmation
from ...application.queue_webhooks import queue_webhooks
from ...application.record_event import record_published_event
from ...application.record_order import record_completed_order, record_placed_order
from ...application.tenants import record_tenant
from ...application.ticket_messages import queue_ticket_transferred
from ...application.waitlist_messages import queue_waitlist_offer
from ...domain.webhooks import WEBHOOK_TYPE_OF


def subscriptions(settings) -> Subscriptions:
    subs = Subscriptions("notifications")
    renderer = TemplateRenderer()

    @subs.on(TenantRegistered)
    async def _tenant_registered(uow, envelope, tenant):
        await record_tenant(uow.session, tenant)

    @subs.on(UserVerificationRequested)
    async def _verification_requested(uow, envelope, request):
        await queue_account_email(uow, envelope, request, renderer, settings)

    @subs.on(PasswordResetRequested)
    async def _password_reset_requested(uow, envelope, request):
        await queue_account_email(uow, envelope, request, renderer, settings)

    @subs.on(EventPublished)
    async def _event_published(uow, envelope, published):
        changes = await record_published_event(uow, envelope, published)
        await queue_event_changed(uow.session, envelope, published, changes, renderer, settings.default_language)
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(EventStatusChanged)
    async def _event_status_changed(uow, envelope, changed):
        await queue_event_cancelled(uow.session, envelope, changed, renderer, settings.default_language)
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(OrderPlaced)
    async def _order_placed(uow, envelope, order):
        await record_placed_order(uow.session, envelope, order)
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(OrderCompleted)
    async def _order_completed(uow, envelope, order):
        await record_completed_order(uow.session, envelope, order)
        await queue_order_confirmation(uow, envelope, order, renderer, settings.default_language)
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(OrderCancelled)
    async def _order_cancelled(uow, envelope, cancelled):
        await queue_order_cancelled(uow.session, envelope, cancelled, renderer, settings.default_language)
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(OrderRefunded)
    async def _order_refunded(uow, envelope, refunded):
        await queue_refund_issued(uow.session, envelope, refunded, renderer, settings.default_language)
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(InstallmentDue)
    async def _installment_due(uow, envelope, due):
        await queue_installment_reminder(uow.session, envelope, due, renderer, settings.default_language,
                                         settings.order_link(due.order_id))

    @subs.on(PaymentCaptured)
    async def _payment_captured(uow, envelope, captured):
        await queue_payment_received(uow.session, envelope, captured, renderer, settings.default_language)

    @subs.on(WaitlistOffered)
    async def _waitlist_offered(uow, envelope, offered):
        await queue_waitlist_offer(uow.session, envelope, offered, renderer, settings.default_language,
                                   settings.waitlist_link(offered.entry_id))

    @subs.on(PaymentFailed)
    async def _payment_failed(uow, envelope, failed):
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(TicketsIssued)
    async def _tickets_issued(uow, envelope, issued):
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(TicketTransferred)
    async def _ticket_transferred(uow, envelope, transferred):
        await queue_ticket_transferred(uow.session, envelope, transferred, renderer, settings.default_language)
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    @subs.on(TicketCheckedIn)
    async def _ticket_checked_in(uow, envelope, checked_in):
        await queue_webhooks(uow.session, envelope, WEBHOOK_TYPE_OF[envelope.type])

    return subs
