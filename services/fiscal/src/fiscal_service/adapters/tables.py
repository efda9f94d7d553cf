from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from taquilla_messaging import messaging_tables
from taquilla_platform.idempotency import idempotency_table

metadata = MetaData()
bus = messaging_tables(metadata)
idempotency = idempotency_table(metadata)

# The counter row is the series: issuing updates it in the issuing transaction, so a rollback
# returns the number and no SEQUENCE gap can appear.
fiscal_series = Table(
    "fiscal_series", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("document_type", String(20), nullable=False),
    Column("point_of_sale", String(60), nullable=False),
    Column("prefix", String(20), nullable=False),
    Column("padding", Integer, nullable=False),
    Column("next_number", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "document_type", "point_of_sale"),
)

fiscal_documents = Table(
    "fiscal_documents", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("series_id", UUID(as_uuid=True), ForeignKey("fiscal_series.id"), nullable=False),
    Column("document_type", String(20), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("formatted_number", String(40), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=True),  # none for a box-office sale made offline
    Column("order_code", String(40), nullable=False),
    Column("buyer", JSONB, nullable=False),
    Column("lines", JSONB, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("subtotal_minor", BigInteger, nullable=False),
    Column("tax_minor", BigInteger, nullable=False),
    Column("total_minor", BigInteger, nullable=False),
    Column("tax_rate", Numeric(6, 4), nullable=False),
    Column("payment_method", String(40), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("point_of_sale", String(60), nullable=False, server_default="online"),
    Column("cashier", String(60), nullable=False, server_default="system"),
    Column("fiscal_day_id", UUID(as_uuid=True), ForeignKey("fiscal_days.id"), nullable=True),
    Column("taxes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("organizer", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("event", JSONB, nullable=True),
    Column("references_document_id", UUID(as_uuid=True), ForeignKey("fiscal_documents.id"), nullable=True),
    Column("reason", Text, nullable=True),
    Column("offline_sale_id", UUID(as_uuid=True), nullable=True),
    Column("digest", String(64), nullable=False, server_default=""),
    Column("refund_id", UUID(as_uuid=True), nullable=True),  # a credit note asked for by the refunds saga
    UniqueConstraint("tenant_id", "series_id", "number"),  # no duplicate, whatever happens
    Index("fiscal_documents_one_invoice_per_order", "tenant_id", "order_id", unique=True,
          postgresql_where=text("document_type = 'invoice' AND order_id IS NOT NULL")),
    Index("fiscal_documents_one_credit_note_per_refund", "tenant_id", "refund_id", unique=True,
          postgresql_where=text("refund_id IS NOT NULL")),
    Index("fiscal_documents_by_day", "tenant_id", "fiscal_day_id"),
    Index("fiscal_documents_by_time", "tenant_id", "issued_at"),
)

# Numbers of a series that will never carry a document (an offline block's unused numbers).
fiscal_voided_numbers = Table(
    "fiscal_voided_numbers", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("series_id", UUID(as_uuid=True), ForeignKey("fiscal_series.id"), nullable=False),
    Column("number", BigInteger, nullable=False),
    Column("formatted_number", String(40), nullable=False),
    Column("block_id", UUID(as_uuid=True), ForeignKey("offline_blocks.id"), nullable=True),
    Column("reason", Text, nullable=False),
    Column("voided_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "series_id", "number"),
)

tax_rules = Table(
    "tax_rules", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=True),  # none: the organizer's default
    Column("code", String(20), nullable=False),
    Column("name", String(120), nullable=False),
    Column("rate", Numeric(7, 4), nullable=False),
    Column("inclusion", String(10), nullable=False),  # "included" in the price or "added" on top
    Column("payment_methods", JSONB, nullable=True),  # none: every payment method
    Column("valid_from", DateTime(timezone=True), nullable=False),
    Column("valid_to", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("created_by", String(60), nullable=False),
    Column("retired_at", DateTime(timezone=True), nullable=True),
    Column("retired_by", String(60), nullable=True),
    Index("tax_rules_lookup", "tenant_id", "event_id", "code"),
)

fiscal_organizers = Table(
    "fiscal_organizers", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("slug", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("legal_name", String(200), nullable=False),
    Column("tax_id", String(40), nullable=False),
    Column("registry_number", String(60), nullable=True),
    Column("address", Text, nullable=True),
    Column("city", String(120), nullable=True),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("time_zone", String(60), nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# What fiscal knows of an order before it is paid (event, session, zones, seats) and of events.
fiscal_orders = Table(
    "fiscal_orders", metadata,
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("lines", JSONB, nullable=False),
)

fiscal_events = Table(
    "fiscal_events", metadata,
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("title", String(300), nullable=False),
    Column("venue_name", String(300), nullable=False),
    Column("sessions", JSONB, nullable=False),
)

fiscal_days = Table(
    "fiscal_days", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("point_of_sale", String(60), nullable=False),
    Column("cashier", String(60), nullable=False),
    Column("z_number", Integer, nullable=False),
    Column("business_date", Date, nullable=False),
    Column("time_zone", String(60), nullable=False),
    Column("status", String(10), nullable=False),  # open | closed
    Column("opened_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True), nullable=True),
    Column("closed_by", String(60), nullable=True),
    Column("z_report", JSONB, nullable=True),
    UniqueConstraint("tenant_id", "point_of_sale", "cashier", "z_number"),
    Index("fiscal_days_one_open", "tenant_id", "point_of_sale", "cashier", unique=True,
          postgresql_where=text("status = 'open'")),
)

box_office_terminals = Table(
    "box_office_terminals", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("code", String(20), nullable=False),
    Column("name", String(120), nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("registered_by", String(60), nullable=False),
    Column("registered_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "code"),
)

offline_blocks = Table(
    "offline_blocks", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("terminal_id", UUID(as_uuid=True), ForeignKey("box_office_terminals.id"), nullable=False),
    Column("series_id", UUID(as_uuid=True), ForeignKey("fiscal_series.id"), nullable=False),
    Column("first_number", BigInteger, nullable=False),
    Column("last_number", BigInteger, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("voided_at", DateTime(timezone=True), nullable=True),  # unused numbers voided, block finished
    Column("requested_by", String(60), nullable=False),
    UniqueConstraint("tenant_id", "series_id", "first_number"),
)

# Every sale a terminal uploaded, accepted or not: a conflict never loses the sale.
offline_sales = Table(
    "offline_sales", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("terminal_code", String(20), nullable=False),
    Column("terminal_id", UUID(as_uuid=True), nullable=True),
    Column("local_id", String(80), nullable=False),  # the terminal's own id for the sale
    Column("sequence", Integer, nullable=False),  # position in the terminal's upload
    Column("number", BigInteger, nullable=False),
    Column("sold_at", DateTime(timezone=True), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", String(20), nullable=False),  # accepted | conflict
    Column("conflict", String(40), nullable=True),  # duplicate_number | expired_block | outside_block | ...
    Column("detail", Text, nullable=True),
    Column("document_id", UUID(as_uuid=True), nullable=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "terminal_code", "local_id"),
)

audit_chain_heads = Table(
    "audit_chain_heads", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("last_sequence", BigInteger, nullable=False),
    Column("last_hash", String(64), nullable=False),
)

audit_entries = Table(
    "audit_entries", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("sequence", BigInteger, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("subject_id", UUID(as_uuid=True), nullable=True),
    Column("payload", JSONB, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("previous_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    UniqueConstraint("tenant_id", "sequence"),
)

TENANT_TABLES = ("fiscal_voided_numbers", "tax_rules", "fiscal_organizers", "fiscal_orders", "fiscal_events",
                 "fiscal_days", "box_office_terminals", "offline_blocks", "offline_sales", "audit_chain_heads",
                 "audit_entries")
