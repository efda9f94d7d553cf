from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from taquilla_messaging import messaging_tables

metadata = MetaData()
bus = messaging_tables(metadata)

# Several keys per organizer (rotation); the partial unique index keeps exactly one active, and is
# the ON CONFLICT target that makes creating the first key safe when two orders race for it.
signing_keys = Table(
    "signing_keys", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("kid", String(32), nullable=False),
    Column("algorithm", String(20), nullable=False, server_default=text("'Ed25519'")),
    Column("status", String(20), nullable=False),
    Column("public_key", LargeBinary, nullable=False),  # raw 32 bytes
    Column("private_key_ciphertext", LargeBinary, nullable=False),  # AES-256-GCM, never the raw key
    Column("private_key_nonce", LargeBinary, nullable=False),
    Column("wrapping_scheme", String(40), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("retired_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "kid"),
    CheckConstraint("status IN ('active', 'retiring', 'retired')", name="signing_keys_status"),
    Index("signing_keys_one_active_per_tenant", "tenant_id", unique=True,
          postgresql_where=text("status = 'active'")),
)

tickets = Table(
    "tickets", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),  # public and non-guessable (UUIDv7)
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("order_code", String(40), nullable=False),
    Column("position", Integer, nullable=False),  # the unit's place in the order
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("event_title", String(300), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("session_starts_at", DateTime(timezone=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("zone_name", String(200), nullable=False),
    Column("unit_id", UUID(as_uuid=True), nullable=False),
    Column("label", String(100), nullable=False),
    Column("holder_name", String(200), nullable=False),
    Column("holder_email", String(320), nullable=False),
    Column("holder_user_id", UUID(as_uuid=True)),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("fiscal_number", String(40), nullable=False),
    Column("status", String(20), nullable=False),
    Column("signing_key_id", UUID(as_uuid=True), ForeignKey("signing_keys.id"), nullable=False),
    Column("qr_payload", Text, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("tenant_id", "order_id", "unit_id"),  # one set of tickets per order, however often asked
    # A seat or place is sold to one valid ticket at a time (a voided one frees it for resale).
    Index("tickets_one_valid_per_unit", "tenant_id", "unit_id", unique=True,
          postgresql_where=text("status = 'valid'")),
    CheckConstraint("status IN ('valid', 'void')", name="tickets_status"),
    CheckConstraint("price_minor >= 0", name="tickets_price_not_negative"),
    Index("tickets_by_order", "order_id"),  # the holder's lookup runs across organizers
    Index("tickets_by_holder", "holder_user_id"),
)
