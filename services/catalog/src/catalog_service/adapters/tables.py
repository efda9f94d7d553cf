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
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from taquilla_messaging import messaging_tables
from taquilla_platform.idempotency import idempotency_table

metadata = MetaData()
bus = messaging_tables(metadata)
idempotency = idempotency_table(metadata)

# Read model of the gateway's tenants (gateway.tenant.registered); the catalog never writes it otherwise.
organizers = Table(
    "organizers", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("slug", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("legal_name", String(200), nullable=False),
    Column("tax_id", String(50), nullable=False),
    Column("registry_number", String(100)),  # PULEP, where the organizer has one
    Column("address", Text),
    Column("city", String(100)),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    # occurred_at of the message that wrote the row: an older redelivery never overwrites newer data
    Column("source_occurred_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("organizers_slug", "slug"),
)

events = Table(
    "events", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("slug", String(100), nullable=False),
    Column("title", String(200), nullable=False),
    Column("description", Text),
    Column("venue_name", String(200), nullable=False),
    Column("city", String(100)),
    Column("time_zone", String(64), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False, server_default=text("'draft'")),
    Column("hold_ttl_seconds", Integer, nullable=False),
    Column("max_tickets_per_order", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("published_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "slug", name="events_tenant_slug"),
    CheckConstraint("status IN ('draft', 'on_sale', 'cancelled', 'completed')", name="events_status"),
    Index("events_slug", "slug"),  # public lookups by slug cross tenants
    Index("events_on_sale", "id", postgresql_where=text("status = 'on_sale'")),
)

event_sessions = Table(
    "event_sessions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Index("event_sessions_event", "event_id", "starts_at"),
)

zones = Table(
    "zones", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),  # the order the organizer listed them in
    Column("name", String(100), nullable=False),
    Column("kind", String(20), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    UniqueConstraint("tenant_id", "event_id", "name", name="zones_event_name"),
    CheckConstraint("kind IN ('general', 'numbered')", name="zones_kind"),
    CheckConstraint("capacity > 0", name="zones_capacity_positive"),
    CheckConstraint("price_minor >= 0", name="zones_price_not_negative"),
    Index("zones_event", "event_id", "position"),
)

TENANT_TABLES = ("organizers", "events", "event_sessions", "zones")
