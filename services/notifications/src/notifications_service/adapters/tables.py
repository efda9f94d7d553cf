from sqlalchemy import (
    CheckConstraint,
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
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from taquilla_messaging import messaging_tables

metadata = MetaData()
bus = messaging_tables(metadata)

# One row per message to one recipient; the rendered content is frozen here, so a retry sends
# exactly what was queued. While `sending`, next_attempt_at is the worker's lease: a worker that
# dies mid-send leaves the message due again once the lease has passed.
messages = Table(
    "notification_messages", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("order_id", UUID(as_uuid=True)),
    Column("channel", String(20), nullable=False),
    Column("template", String(60), nullable=False),
    Column("language", String(10), nullable=False),
    Column("recipient", String(320), nullable=False),
    Column("recipient_name", String(200), nullable=False, server_default=""),
    Column("subject", Text, nullable=False),
    Column("body_text", Text, nullable=False),
    Column("body_html", Text),
    Column("attachments", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_error", Text),
    Column("sent_at", DateTime(timezone=True)),
    Column("correlation_id", String(200)),
    Column("causation_id", UUID(as_uuid=True)),  # the message that asked for this one
    Column("trace_headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "order_id", "template", "channel"),  # one confirmation per order
    CheckConstraint("status IN ('queued', 'sending', 'sent', 'failed')", name="notification_messages_status"),
    CheckConstraint("attempts >= 0", name="notification_messages_attempts"),
    Index("notification_messages_due", "next_attempt_at", postgresql_where=text("status IN ('queued', 'sending')")),
    Index("notification_messages_by_tenant", "tenant_id", "created_at"),
)

# What notifications keeps of the catalog's events: enough to write about them (local time, venue).
events = Table(
    "catalog_events", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("title", Text, nullable=False),
    Column("venue_name", Text, nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("organizer_name", Text, nullable=False),
    Column("published_at", DateTime(timezone=True), nullable=False),  # a late, older copy never wins
)
