from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from taquilla_messaging import messaging_tables
from taquilla_platform.idempotency import idempotency_table

metadata = MetaData()
bus = messaging_tables(metadata)
idempotency = idempotency_table(metadata)

# What is for sale, as the catalog published it (orders prices lines from its own copy).
event_offers = Table(
    "event_offers", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("title", String(200), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("hold_ttl_seconds", Integer, nullable=False),
    Column("max_tickets_per_order", Integer, nullable=False),
    Column("sessions", JSONB, nullable=False),  # [{session_id, starts_at}]
    Column("zones", JSONB, nullable=False),  # [{zone_id, name, kind, capacity, price_minor, currency}]
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

orders = Table(
    "orders", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("code", String(20), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_title", String(200), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("session_starts_at", DateTime(timezone=True), nullable=False),
    Column("buyer_user_id", UUID(as_uuid=True), nullable=False),
    Column("buyer", JSONB, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("hold_id", UUID(as_uuid=True), nullable=False),
    Column("hold_expires_at", DateTime(timezone=True), nullable=False),
    Column("units", JSONB),  # the sold units, once inventory confirms
    Column("payment", JSONB),  # {payment_id, method, provider, captured_at}
    Column("fiscal_document", JSONB),  # {document_id, number, formatted_number}
    Column("tickets", JSONB),  # [{ticket_id, label, zone_name, qr_payload}]
    Column("cancel_reason", String(60)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "code"),
    Index("orders_buyer", "buyer_user_id", "created_at"),
)

purchase_sagas = Table(
    "purchase_sagas", metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("state", String(30), nullable=False),
    Column("step_attempts", Integer, nullable=False, server_default="0"),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("purchase_sagas_open", "state", "updated_at",
          postgresql_where="state IN ('confirming_hold', 'issuing_fiscal', 'issuing_tickets')"),
)

# Append-only: every state change of every saga, with the message that caused it.
saga_transitions = Table(
    "saga_transitions", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("from_state", String(30)),
    Column("to_state", String(30), nullable=False),
    Column("cause", String(200), nullable=False),  # message type or command name
    Column("message_id", UUID(as_uuid=True)),
    Column("note", Text),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
