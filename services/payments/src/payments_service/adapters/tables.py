from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from taquilla_messaging import messaging_tables
from taquilla_platform.idempotency import idempotency_table

metadata = MetaData()
bus = messaging_tables(metadata)
idempotency = idempotency_table(metadata)

# What payments knows of an order, from orders' events: the amount to charge is never the client's.
payable_orders = Table(
    "payable_orders", metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),  # orders' own non-guessable id
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("code", String(40), nullable=False),
    Column("event_id", UUID(as_uuid=True)),  # None for orders heard of before payments kept it
    Column("session_id", UUID(as_uuid=True)),
    Column("buyer_user_id", UUID(as_uuid=True)),
    Column("total_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("hold_expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("cancellation_reason", Text),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True)),
    # an order paid in parts (orders' PaymentPlan): {kind, deposit_minor, min_contribution_minor, deadline,
    # installments: [{number, amount_minor, due_at}]}; None: one payment of the total
    Column("plan", JSONB),
    CheckConstraint("status IN ('awaiting_payment', 'cancelled')", name="payable_orders_status"),
    CheckConstraint("total_minor >= 0", name="payable_orders_total_not_negative"),
    Index("payable_orders_by_event", "tenant_id", "event_id"),
)

CAPTURED_ONLY = text("status = 'captured'")
PENDING_ONLY = text("status = 'pending'")
REFERENCE_IN_USE = text("manual_reference IS NOT NULL AND status <> 'failed'")

payments = Table(
    "payments", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), ForeignKey("payable_orders.order_id"), nullable=False),
    Column("buyer_user_id", UUID(as_uuid=True)),
    Column("status", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("method", String(40), nullable=False),
    Column("provider_reference", String(200)),
    Column("failure_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("captured_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    Column("next_action", JSONB),  # what the buyer does next while pending (a redirect URL…)
    # manual methods: what the payer declared, and the staff member who confirmed or rejected it
    Column("manual_reference", String(40)),  # the bank's reference (transfer, PagoMovil)
    Column("details", JSONB),  # bank code, phone, notes
    Column("declared_by", UUID(as_uuid=True)),
    Column("reviewed_by", UUID(as_uuid=True)),
    Column("reviewed_at", DateTime(timezone=True)),
    Column("review_note", Text),
    Column("plan_part", Integer, nullable=False, server_default=text("0")),  # 1, 2…: the nth payment of a plan
    CheckConstraint("status IN ('pending', 'captured', 'failed')", name="payments_status"),
    CheckConstraint("amount_minor >= 0", name="payments_amount_not_negative"),
    # An order (or each part of an order paid in parts) is paid once, whatever the races.
    Index("payments_one_capture_per_order", "tenant_id", "order_id", "plan_part", unique=True,
          postgresql_where=CAPTURED_ONLY),
    # One open attempt per order: two pending payments could both be confirmed.
    Index("payments_one_pending_per_order", "tenant_id", "order_id", unique=True, postgresql_where=PENDING_ONLY),
    # One bank movement pays one order: a reference declared twice (and not rejected) is refused.
    Index("payments_manual_reference_once", "tenant_id", "method", "manual_reference", unique=True,
          postgresql_where=REFERENCE_IN_USE),
    Index("payments_by_order", "tenant_id", "order_id", "created_at"),
    Index("payments_by_buyer", "buyer_user_id", "created_at"),
    Index("payments_by_provider_reference", "provider", "provider_reference"),
    Index("payments_by_method", "tenant_id", "method", "created_at"),
)

refunds = Table(
    "refunds", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),  # orders' refund_id: the same refund asked twice is one
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("payment_id", UUID(as_uuid=True), ForeignKey("payments.id"), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("provider", String(40), nullable=False),
    Column("provider_reference", String(200)),
    Column("settlement", String(20), nullable=False),  # 'provider', or 'organizer' pays it out by hand
    Column("reason", String(40), nullable=False),
    Column("failure_reason", Text),
    Column("requested_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("completed_at", DateTime(timezone=True)),
    Column("failed_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('pending', 'completed', 'failed')", name="refunds_status"),
    CheckConstraint("settlement IN ('provider', 'organizer')", name="refunds_settlement"),
    CheckConstraint("amount_minor >= 0", name="refunds_amount_not_negative"),
    Index("refunds_by_payment", "tenant_id", "payment_id", "requested_at"),
    Index("refunds_by_provider_reference", "provider", "provider_reference"),
)

# Every webhook a provider sent that passed its signature check: the same event twice is one effect.
# tenant_id is known once the event is matched to a payment; unmatched ones are seen in the system scope.
provider_events = Table(
    "provider_events", metadata,
    Column("provider", String(40), primary_key=True),
    Column("event_id", String(200), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True)),
    Column("event_type", String(100), nullable=False),
    Column("payment_id", UUID(as_uuid=True)),
    Column("outcome", String(40), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
