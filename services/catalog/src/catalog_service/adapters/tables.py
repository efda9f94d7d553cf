from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
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
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
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
    Column("venue_id", UUID(as_uuid=True), ForeignKey("venues.id", ondelete="SET NULL")),
    Column("category", String(30)),
    Column("tags", ARRAY(String(40)), nullable=False, server_default=text("'{}'")),
    Column("images", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # [{url, alt, role}]
    Column("fee_fixed_minor", BigInteger, nullable=False, server_default=text("0")),  # per ticket
    Column("fee_percent", Numeric(7, 3), nullable=False, server_default=text("0")),
    Column("tax_percent", Numeric(7, 3), nullable=False, server_default=text("0")),
    Column("group_discounts", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # [{min_quantity, percent}]
    Column("cloned_from", UUID(as_uuid=True)),
    Column("status_changed_at", DateTime(timezone=True)),
    # paying in parts: the organizer's rules (PaymentPlanRules of the contracts); None: one payment only
    Column("payment_plans", JSONB),
    UniqueConstraint("tenant_id", "slug", name="events_tenant_slug"),
    CheckConstraint("status IN ('draft', 'published', 'on_sale', 'sold_out', 'cancelled', 'completed')",
                    name="events_status"),
    Index("events_slug", "slug"),  # public lookups by slug cross tenants
    Index("events_on_sale", "id", postgresql_where=text("status = 'on_sale'")),
    Index("events_category", "category"),
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
    Column("layout", JSONB),  # numbered zones: the seat layout as the organizer gave it
    Column("row_adjustments", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # {row: "percent"}
    Column("hidden", Boolean, nullable=False, server_default=text("false")),  # sold only with a promo code
    UniqueConstraint("tenant_id", "event_id", "name", name="zones_event_name"),
    CheckConstraint("kind IN ('general', 'numbered')", name="zones_kind"),
    CheckConstraint("capacity > 0", name="zones_capacity_positive"),
    CheckConstraint("price_minor >= 0", name="zones_price_not_negative"),
    Index("zones_event", "event_id", "position"),
)


venues = Table(
    "venues", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(200), nullable=False),
    Column("address", Text),
    Column("city", String(100)),
    Column("country", String(2)),
    Column("time_zone", String(64), nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("accessibility", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "name", name="venues_tenant_name"),
    CheckConstraint("capacity > 0", name="venues_capacity_positive"),
)

# A reusable arrangement of zones (and their seat layouts) an event can be created from.
venue_layouts = Table(
    "venue_layouts", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("venue_id", UUID(as_uuid=True), ForeignKey("venues.id", ondelete="CASCADE"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("zones", JSONB, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "venue_id", "name", name="venue_layouts_name"),
)

seats = Table(
    "seats", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("zone_id", UUID(as_uuid=True), ForeignKey("zones.id", ondelete="CASCADE"), nullable=False),
    Column("position", Integer, nullable=False),
    Column("row_label", String(20), nullable=False),
    Column("number", String(10), nullable=False),
    Column("label", String(60), nullable=False),
    Column("x", Float, nullable=False),
    Column("y", Float, nullable=False),
    Column("accessible", Boolean, nullable=False, server_default=text("false")),
    Column("companion", Boolean, nullable=False, server_default=text("false")),
    Column("blocked", Boolean, nullable=False, server_default=text("false")),
    Column("table_label", String(20)),
    Column("table_sold_as", String(10)),
    UniqueConstraint("tenant_id", "zone_id", "label", name="seats_zone_label"),
    Index("seats_zone", "zone_id", "position"),
)

price_stages = Table(
    "price_stages", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("zone_id", UUID(as_uuid=True), ForeignKey("zones.id", ondelete="CASCADE")),  # NULL: event-wide
    Column("name", String(100), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("price_minor", BigInteger),
    Column("percent_of_base", Numeric(7, 3)),
    Column("starts_at", DateTime(timezone=True)),
    Column("ends_at", DateTime(timezone=True)),
    Column("quantity", Integer),
    # units held or sold at this price: the database refuses more than the stage's quantity
    Column("allocated", Integer, nullable=False, server_default=text("0")),
    Column("status", String(10), nullable=False, server_default=text("'open'")),
    Column("ended_at", DateTime(timezone=True)),
    Column("end_reason", String(20)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("allocated >= 0 AND (quantity IS NULL OR allocated <= quantity)", name="price_stages_allotment"),
    CheckConstraint("status IN ('open', 'ended')", name="price_stages_status"),
    CheckConstraint("(price_minor IS NULL) <> (percent_of_base IS NULL)", name="price_stages_one_price"),
    Index("price_stages_event", "event_id", "priority"),
)

stage_transitions = Table(  # the audit record of every stage opening or ending
    "stage_transitions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("stage_id", UUID(as_uuid=True), ForeignKey("price_stages.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", String(10), nullable=False),
    Column("to_status", String(10), nullable=False),
    Column("reason", String(20), nullable=False),  # date | quantity | released | organizer
    Column("allocated", Integer, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("stage_transitions_event", "event_id", "occurred_at"),
)

# Units taken at a stage's price for one hold: the price stays locked while the hold lives.
stage_allocations = Table(
    "stage_allocations", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("stage_id", UUID(as_uuid=True), ForeignKey("price_stages.id", ondelete="CASCADE")),
    Column("hold_id", UUID(as_uuid=True), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price_minor", BigInteger, nullable=False),
    Column("status", String(10), nullable=False, server_default=text("'held'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("quantity > 0", name="stage_allocations_quantity"),
    CheckConstraint("status IN ('held', 'confirmed', 'released')", name="stage_allocations_status"),
    Index("stage_allocations_hold", "tenant_id", "hold_id"),
)

promo_codes = Table(
    "promo_codes", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("code", String(40), nullable=False),  # stored upper-case; buyers type it in any case
    Column("kind", String(10), nullable=False),
    Column("value", Numeric(14, 3), nullable=False),  # percent, or minor units off each ticket
    Column("min_quantity", Integer, nullable=False, server_default=text("1")),
    Column("max_discount_minor", BigInteger),
    Column("max_uses", Integer),
    Column("uses", Integer, nullable=False, server_default=text("0")),
    Column("max_uses_per_buyer", Integer),
    Column("valid_from", DateTime(timezone=True)),
    Column("valid_until", DateTime(timezone=True)),
    Column("zone_ids", ARRAY(UUID(as_uuid=True))),  # NULL: the whole event
    Column("unlocks_zone_ids", ARRAY(UUID(as_uuid=True)), nullable=False, server_default=text("'{}'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "event_id", "code", name="promo_codes_event_code"),
    CheckConstraint("kind IN ('percent', 'fixed')", name="promo_codes_kind"),
    # the usage limit is the database's to enforce: a redemption beyond it fails its UPDATE
    CheckConstraint("uses >= 0 AND (max_uses IS NULL OR uses <= max_uses)", name="promo_codes_usage_limit"),
)

promo_buyer_uses = Table(
    "promo_buyer_uses", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("promo_code_id", UUID(as_uuid=True), ForeignKey("promo_codes.id", ondelete="CASCADE"), primary_key=True),
    Column("buyer", String(254), primary_key=True),  # the buyer's email, lower-cased
    Column("uses", Integer, nullable=False),
    CheckConstraint("uses >= 0", name="promo_buyer_uses_not_negative"),
)

promo_redemptions = Table(
    "promo_redemptions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("promo_code_id", UUID(as_uuid=True), ForeignKey("promo_codes.id", ondelete="CASCADE"), nullable=False),
    Column("reference", String(100), nullable=False),  # the order (or hold) it was redeemed for
    Column("buyer", String(254), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("status", String(10), nullable=False, server_default=text("'redeemed'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "promo_code_id", "reference", name="promo_redemptions_reference"),
)

price_changes = Table(  # price history: every change of a base price, stage or row adjustment
    "price_changes", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("zone_id", UUID(as_uuid=True)),
    Column("stage_id", UUID(as_uuid=True)),
    Column("kind", String(30), nullable=False),
    Column("old_value", JSONB),
    Column("new_value", JSONB),
    Column("changed_by", UUID(as_uuid=True)),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("price_changes_event", "event_id", "changed_at"),
)

event_transitions = Table(  # the audit record of the event lifecycle
    "event_transitions", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("from_status", String(20), nullable=False),
    Column("to_status", String(20), nullable=False),
    Column("reason", Text),
    Column("changed_by", UUID(as_uuid=True)),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("event_transitions_event", "event_id", "occurred_at"),
)

TENANT_TABLES = ("organizers", "events", "event_sessions", "zones", "venues", "venue_layouts", "seats",
                 "price_stages", "stage_transitions", "stage_allocations", "promo_codes", "promo_buyer_uses",
                 "promo_redemptions", "price_changes", "event_transitions")
NEW_TENANT_TABLES = TENANT_TABLES[4:]
