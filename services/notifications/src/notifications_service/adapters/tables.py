from sqlalchemy import (
    BigInteger,
    Boolean,
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
from taquilla_platform.idempotency import idempotency_table

metadata = MetaData()
bus = messaging_tables(metadata)
idempotency = idempotency_table(metadata)

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
    # one confirmation per order; `reference` tells apart several of a kind per order (refunds, transfers)
    Column("reference", String(100), nullable=False, server_default=""),
    UniqueConstraint("tenant_id", "order_id", "template", "channel", "reference",
                     name="notification_messages_once_per_order"),
    Column("category", String(20), nullable=False, server_default="transactional"),  # or "marketing"
    Column("provider_message_id", String(100)),  # the SMS/WhatsApp provider's id, for its status callbacks
    Column("delivered_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('queued', 'sending', 'sent', 'delivered', 'failed', 'suppressed')",
                    name="notification_messages_status"),
    CheckConstraint("attempts >= 0", name="notification_messages_attempts"),
    Index("notification_messages_due", "next_attempt_at", postgresql_where=text("status IN ('queued', 'sending')")),
    Index("notification_messages_by_tenant", "tenant_id", "created_at"),
    Index("notification_messages_by_provider_id", "provider_message_id",
          postgresql_where=text("provider_message_id IS NOT NULL")),
    # the same for messages about no order (a waitlist offer): once per tenant, kind, channel and reference
    Index("notification_messages_once_per_reference", "tenant_id", "template", "channel", "reference", unique=True,
          postgresql_where=text("order_id IS NULL AND reference <> ''")),
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
    Column("zones", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # zone id → name
)

# The sessions of those events (as last published): which event a session is of, and when it starts.
event_sessions = Table(
    "catalog_sessions", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("session_id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    Index("catalog_sessions_by_event", "tenant_id", "event_id"),
)


# What notifications keeps of an order: who to write to when it is cancelled, reminded, refunded.
orders = Table(
    "known_orders", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("order_id", UUID(as_uuid=True), primary_key=True),
    Column("code", String(40), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True)),  # from orders.order.placed; None if only seen completed
    Column("placed_at", DateTime(timezone=True)),  # idem
    Column("event_title", Text),
    Column("session_starts_at", DateTime(timezone=True)),
    Column("buyer_email", String(320), nullable=False),
    Column("buyer_name", String(200), nullable=False),
    Column("total_minor", BigInteger),
    Column("currency", String(3)),
    Column("ticket_count", Integer),
    Column("tickets", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # ticket id → label
    Column("status", String(20), nullable=False),  # placed, completed, cancelled, refunded (in full)
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("known_orders_upcoming", "session_starts_at", postgresql_where=text("status = 'completed'")),
)

# The captured payments of those orders (one each, however often announced): what a receipt says is left to pay
# of an order paid in parts.
order_payments = Table(
    "known_order_payments", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("payment_id", UUID(as_uuid=True), primary_key=True),
    Column("order_id", UUID(as_uuid=True), nullable=False),
    Column("amount_minor", BigInteger, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("captured_at", DateTime(timezone=True), nullable=False),
    Index("known_order_payments_by_order", "tenant_id", "order_id"),
)

# A tenant's own wording of a template part (subject, text, html, sms) in one language.
template_overrides = Table(
    "template_overrides", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("template", String(60), primary_key=True),
    Column("language", String(10), primary_key=True),
    Column("part", String(10), primary_key=True),
    Column("source", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("part IN ('subject', 'text', 'html', 'sms')", name="template_overrides_part"),
)

# A buyer's choices with one organizer, keyed by their email address (lower-cased).
preferences = Table(
    "recipient_preferences", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("email", String(320), primary_key=True),
    Column("language", String(10)),
    Column("phone", String(20)),  # E.164
    Column("email_marketing", Boolean, nullable=False, server_default=text("true")),
    Column("sms_transactional", Boolean, nullable=False, server_default=text("false")),
    Column("sms_marketing", Boolean, nullable=False, server_default=text("false")),
    Column("whatsapp_transactional", Boolean, nullable=False, server_default=text("false")),
    Column("whatsapp_marketing", Boolean, nullable=False, server_default=text("false")),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# A partner's endpoint. `previous_secret` still signs until `previous_secret_expires_at` (rotation).
webhook_endpoints = Table(
    "webhook_endpoints", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("url", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("event_types", JSONB, nullable=False),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("secret", Text, nullable=False),
    Column("previous_secret", Text),
    Column("previous_secret_expires_at", DateTime(timezone=True)),
    Column("alert_email", String(320)),
    Column("consecutive_failures", Integer, nullable=False, server_default=text("0")),
    Column("failing_since", DateTime(timezone=True)),
    Column("disabled_at", DateTime(timezone=True)),
    Column("disabled_reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("webhook_endpoints_by_tenant", "tenant_id", "created_at"),
)

# One event for one endpoint. `webhook_id` is the same on every attempt and replay (receivers dedupe
# on it); `payload` is the exact body, so every attempt signs the same bytes. While `delivering`,
# next_attempt_at is the worker's lease.
webhook_deliveries = Table(
    "webhook_deliveries", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("endpoint_id", UUID(as_uuid=True), nullable=False),
    Column("webhook_id", String(80), nullable=False),
    Column("event_type", String(60), nullable=False),
    Column("payload", Text, nullable=False),
    Column("status", String(20), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "endpoint_id", "webhook_id"),
    CheckConstraint("status IN ('pending', 'delivering', 'succeeded', 'failed')", name="webhook_deliveries_status"),
    Index("webhook_deliveries_due", "next_attempt_at", postgresql_where=text("status IN ('pending', 'delivering')")),
    Index("webhook_deliveries_by_endpoint", "tenant_id", "endpoint_id", "created_at"),
)

# The delivery log: every request made, with what the receiver answered.
webhook_attempts = Table(
    "webhook_attempts", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("delivery_id", UUID(as_uuid=True), nullable=False),
    Column("endpoint_id", UUID(as_uuid=True), nullable=False),
    Column("attempted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("url", Text, nullable=False),
    Column("request_headers", JSONB, nullable=False),
    Column("response_status", Integer),
    Column("response_body", Text),  # an excerpt
    Column("error", Text),
    Column("duration_ms", Integer, nullable=False),
    Column("outcome", String(20), nullable=False),  # succeeded, failed, gone
    Index("webhook_attempts_by_delivery", "delivery_id", "id"),
)

# An organizer as notifications needs it: its name, and the language its buyers are written to by default.
tenant_settings = Table(
    "tenant_settings", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("name", Text),
    Column("country", String(2)),
    Column("default_language", String(10)),  # chosen by the organizer; else from the country
    Column("time_zone", String(64)),
    Column("branding", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # logo_url, primary_color...
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)
