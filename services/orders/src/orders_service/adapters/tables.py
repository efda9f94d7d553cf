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
    Column("payment_plans", JSONB),  # the organizer's rules for paying in parts; None: one payment only
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
    Column("hold_extensions", Integer, nullable=False, server_default="0"),  # times the buyer got more time
    Column("promo_code", String(40)),  # redeemed in the catalog under the order id
    Column("pricing", JSONB),  # the catalog's quote: lines (base, stage, row, group, promo, fees, taxes), totals
    Column("units", JSONB),  # the sold units, once inventory confirms
    Column("payment", JSONB),  # {payment_id, method, provider, captured_at}
    Column("fiscal_document", JSONB),  # {document_id, number, formatted_number}
    Column("tickets", JSONB),  # [{ticket_id, label, zone_name, qr_payload}]
    Column("cancel_reason", String(60)),
    Column("refunded_minor", BigInteger, nullable=False, server_default="0"),  # completed refunds so far
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("channel", String(10), nullable=False, server_default="online"),  # online | cashier | api
    Column("placed_by", UUID(as_uuid=True)),  # the staff member (or API key) who placed it; None for buyers
    Column("placed_by_email", String(254)),
    Column("paid_at", DateTime(timezone=True)),  # the payment's capture: when a sale counts in reports
    # A resale order: {listing_id, ticket_id (the seller's), seller_order_id, face_value_minor, fee_minor,
    # seller_refund_minor}. Its unit is already sold: no inventory hold, the listing is reserved instead.
    Column("resale", JSONB),
    # An order paid in parts (domain/payment_plans.py): {kind, deposit_minor, min_contribution_minor, deadline,
    # installments: [{number, amount_minor, due_at}], contributions: [{payment_id, amount_minor, ...}],
    # on_missed_deadline, keep_percent, reminded: [numbers]}. None: one payment of the total.
    Column("plan", JSONB),
    UniqueConstraint("tenant_id", "code"),
    Index("orders_buyer", "buyer_user_id", "created_at"),
)
# the organizer's order search: newest first within a tenant, by buyer email or national id
Index("orders_tenant_created", orders.c.tenant_id, orders.c.created_at.desc(), orders.c.id.desc())
Index("orders_tenant_buyer_email", orders.c.tenant_id, func.lower(orders.c.buyer["email"].astext))
Index("orders_tenant_national_id", orders.c.tenant_id, orders.c.buyer["national_id"].astext)
Index("orders_resale_ticket", orders.c.resale["ticket_id"].astext, postgresql_where=orders.c.resale.isnot(None))
Index("orders_tenant_paid", orders.c.tenant_id, orders.c.paid_at, orders.c.id, postgresql_where=orders.c.paid_at.isnot(None))

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
Index("saga_transitions_tenant_occurred", saga_transitions.c.tenant_id, saga_transitions.c.occurred_at.desc())

# Money given back for some or all of an order's tickets (or all of a payment that could not become an
# order). One row per refund, its id the idempotency key in payments, fiscal, tickets and inventory.
refunds = Table(
    "refunds", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False, index=True),
    Column("state", String(20), nullable=False),  # refunding -> crediting -> completed; or failed
    Column("reason", String(40), nullable=False),
    Column("requested_by", UUID(as_uuid=True)),  # None when the saga refunds on its own
    Column("requested_by_kind", String(10), nullable=False),  # buyer | staff | system
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("ticket_ids", JSONB, nullable=False),
    Column("unit_ids", JSONB, nullable=False),
    Column("credit_lines", JSONB, nullable=False),  # [{original_line, quantity}] of the order's invoice
    Column("provider_reference", String(200)),
    Column("payment_id", UUID(as_uuid=True)),  # the payment given back; None: the order's (one) payment
    Column("credit_note", JSONB),  # {document_id, formatted_number}
    Column("failure_reason", Text),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("refunds_open", "state", "updated_at", postgresql_where="state IN ('refunding', 'crediting')"),
    Index("refunds_tenant_completed", "tenant_id", "updated_at", postgresql_where="state = 'completed'"),
)
