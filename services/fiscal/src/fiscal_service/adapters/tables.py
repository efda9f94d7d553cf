from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    ForeignKey,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    UniqueConstraint,
    func,
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
    Column("order_id", UUID(as_uuid=True), nullable=False),
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
    UniqueConstraint("tenant_id", "series_id", "number"),  # no duplicate, whatever happens
    UniqueConstraint("tenant_id", "order_id", "document_type"),  # one invoice per order
)
