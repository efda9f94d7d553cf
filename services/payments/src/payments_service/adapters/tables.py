from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
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
    Column("buyer_user_id", UUID(as_uuid=True)),
    Column("total_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("hold_expires_at", DateTime(timezone=True), nullable=False),
    Column("status", String(20), nullable=False),
    Column("cancellation_reason", Text),
    Column("placed_at", DateTime(timezone=True), nullable=False),
    Column("cancelled_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('awaiting_payment', 'cancelled')", name="payable_orders_status"),
    CheckConstraint("total_minor >= 0", name="payable_orders_total_not_negative"),
)

CAPTURED_ONLY = text("status = 'captured'")

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
    CheckConstraint("status IN ('captured', 'failed')", name="payments_status"),
    CheckConstraint("amount_minor >= 0", name="payments_amount_not_negative"),
    # An order is paid once, whatever the races: a second capture cannot be written.
    Index("payments_one_capture_per_order", "tenant_id", "order_id", unique=True, postgresql_where=CAPTURED_ONLY),
    Index("payments_by_order", "tenant_id", "order_id", "created_at"),
    Index("payments_by_buyer", "buyer_user_id", "created_at"),
)
