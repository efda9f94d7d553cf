"""Inventory's tables. Every table but the bus's is tenant-owned (row-level security, tenant_id in
every unique constraint)."""
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKeyConstraint,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import UUID
from taquilla_messaging import messaging_tables

metadata = MetaData()
bus = messaging_tables(metadata)

# Read model of the catalog's published events: what may be sold and under which rules.
events = Table(
    "inventory_events", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("title", String(300), nullable=False),
    Column("on_sale", Boolean, nullable=False),
    Column("max_tickets_per_order", Integer, nullable=False),
    Column("hold_ttl_seconds", Integer, nullable=False),
    Column("max_tickets_per_buyer", Integer),  # None: the per-order limit also caps each buyer's session total
    Column("published_at", DateTime(timezone=True), nullable=False),  # of the catalog message applied
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "event_id"),
)

sessions = Table(
    "inventory_sessions", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("starts_at", DateTime(timezone=True), nullable=False),
    PrimaryKeyConstraint("tenant_id", "session_id"),
    ForeignKeyConstraint(["tenant_id", "event_id"], ["inventory_events.tenant_id", "inventory_events.event_id"]),
    Index("inventory_sessions_by_id", "session_id"),  # the public availability page finds its tenant
)

zones = Table(
    "inventory_zones", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(200), nullable=False),
    Column("kind", String(20), nullable=False),  # general | numbered
    Column("capacity", Integer, nullable=False),
    Column("position", Integer, nullable=False),  # order of the zone in the event
    Column("best_x", Float),  # numbered zones: the point best-available seats are closest to
    Column("best_y", Float),
    PrimaryKeyConstraint("tenant_id", "zone_id"),
    ForeignKeyConstraint(["tenant_id", "event_id"], ["inventory_events.tenant_id", "inventory_events.event_id"]),
    CheckConstraint("capacity >= 0", name="inventory_zones_capacity"),
)

# One row per sellable unit of a (session, zone); the row is what concurrent holds contend for.
units = Table(
    "sellable_units", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("position", Integer, nullable=False),
    Column("label", String(250), nullable=False),
    Column("status", String(20), nullable=False, server_default=text("'available'")),
    Column("hold_id", UUID(as_uuid=True)),  # the hold that has it (held) or bought it (sold)
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Numbered seats only: the catalog's seat (the same in every session) and where it is.
    Column("seat_id", UUID(as_uuid=True)),
    Column("row_label", String(50)),
    Column("seat_number", String(20)),
    Column("x", Float),
    Column("y", Float),
    Column("in_table", Boolean, nullable=False, server_default=text("false")),
    # Two ways a unit is 'blocked': the catalog's seat map leaves the seat out of the sale (outside the
    # zone's capacity), or staff hold it back in a block (inside the capacity, sellable from the block).
    Column("blocked_in_map", Boolean, nullable=False, server_default=text("false")),
    Column("block_id", UUID(as_uuid=True)),  # the staff block keeping it off sale
    # Led by the position so that it fits no pick of a zone's free units: those go through
    # sellable_units_available, never past the units already taken (migration 0004).
    UniqueConstraint("position", "zone_id", "session_id", "tenant_id", name="sellable_units_position_key"),
    CheckConstraint("status IN ('available', 'held', 'sold', 'blocked')", name="sellable_units_status_v2"),
    CheckConstraint("(status IN ('available', 'blocked')) = (hold_id IS NULL)", name="sellable_units_hold_v2"),
    CheckConstraint("block_id IS NULL OR status = 'blocked'", name="sellable_units_block"),
    ForeignKeyConstraint(["tenant_id", "block_id"], ["unit_blocks.tenant_id", "unit_blocks.id"],
                         name="sellable_units_block_fk"),
    Index("sellable_units_available", "tenant_id", "session_id", "zone_id", "position",
          postgresql_where=text("status = 'available'")),
    Index("sellable_units_by_hold", "tenant_id", "hold_id"),
    Index("sellable_units_by_block", "tenant_id", "block_id", postgresql_where=text("block_id IS NOT NULL")),
    Index("sellable_units_by_seat", "tenant_id", "session_id", "seat_id", unique=True,
          postgresql_where=text("seat_id IS NOT NULL")),
    Index("sellable_units_by_row", "tenant_id", "session_id", "zone_id", "row_label", "x",
          postgresql_where=text("row_label IS NOT NULL")),
)

# hold_id is chosen by the caller, so it is unique per tenant only: no tenant can probe another's ids.
holds = Table(
    "holds", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("owner_id", UUID(as_uuid=True), nullable=False),
    Column("buyer_id", UUID(as_uuid=True)),
    Column("status", String(20), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),  # when it was confirmed, released or expired
    Column("release_reason", String(200)),
    # Led by the id: the key serves lookups of one hold only, so no plan reads a tenant's holds through it
    # when it wants a buyer's (migration 0004).
    PrimaryKeyConstraint("id", "tenant_id", name="holds_pkey"),
    CheckConstraint("status IN ('held', 'confirmed', 'released', 'expired', 'voided')", name="holds_status_v2"),
    CheckConstraint("quantity > 0", name="holds_quantity"),
    Index("holds_due", "expires_at", postgresql_where=text("status = 'held'")),  # the expiry sweeper's scan
    Index("holds_by_buyer", "tenant_id", "session_id", "buyer_id", postgresql_where=text("buyer_id IS NOT NULL")),
)

# The units a hold took, kept after they go back to sale so a hold's answer never changes.
hold_units = Table(
    "hold_units", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("hold_id", UUID(as_uuid=True), nullable=False),
    Column("unit_id", UUID(as_uuid=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("label", String(250), nullable=False),
    Column("voided_at", DateTime(timezone=True)),  # sold, then given back on a refund
    PrimaryKeyConstraint("tenant_id", "hold_id", "unit_id"),
    ForeignKeyConstraint(["tenant_id", "hold_id"], ["holds.tenant_id", "holds.id"]),
)

# A buyer waiting for a sold-out zone; the head is offered released units as a time-limited hold.
waitlist = Table(
    "waitlist_entries", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("turn", BigInteger, Identity(), nullable=False),  # the order of arrival
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("buyer_id", UUID(as_uuid=True), nullable=False),
    Column("contact_email", String(320)),
    Column("quantity", Integer, nullable=False),
    Column("status", String(20), nullable=False),
    Column("offer_hold_id", UUID(as_uuid=True)),
    Column("offer_expires_at", DateTime(timezone=True)),
    Column("joined_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("tenant_id", "id"),
    CheckConstraint("status IN ('waiting', 'offered', 'left', 'lapsed', 'accepted')", name="waitlist_status"),
    CheckConstraint("quantity > 0", name="waitlist_quantity"),
    Index("waitlist_one_live_entry_per_buyer", "tenant_id", "session_id", "zone_id", "buyer_id", unique=True,
          postgresql_where=text("status IN ('waiting', 'offered')")),
    Index("waitlist_queue", "tenant_id", "session_id", "zone_id", "turn",
          postgresql_where=text("status IN ('waiting', 'offered')")),
    # The offers out, which the waitlist job settles every second from their holds' outcome (without it the
    # job read every hold three times a second).
    Index("waitlist_offers_out", "offer_hold_id", postgresql_where=text("status = 'offered'")),
)

# Units staff hold back from sale (sponsors, production) in one zone of a session. block_id is chosen by
# the caller (or derived from an Idempotency-Key), so it is unique per tenant only.
blocks = Table(
    "unit_blocks", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("zone_id", UUID(as_uuid=True), nullable=False),
    Column("label", String(200), nullable=False),
    Column("note", String(2000)),
    Column("created_by", UUID(as_uuid=True)),
    Column("request_hash", String(64)),  # what was asked, so a repeat with other contents is refused
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("closed_at", DateTime(timezone=True)),  # when its last unit was released or sold
    PrimaryKeyConstraint("tenant_id", "id"),
    Index("unit_blocks_by_session", "tenant_id", "session_id", "created_at"),
)

# Every unit a block ever kept, and how it left: released to sale, or taken by a hold.
block_units = Table(
    "block_units", metadata,
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("block_id", UUID(as_uuid=True), nullable=False),
    Column("unit_id", UUID(as_uuid=True), nullable=False),
    Column("label", String(250), nullable=False),
    Column("left_at", DateTime(timezone=True)),
    Column("hold_id", UUID(as_uuid=True)),  # set when it left into a hold
    PrimaryKeyConstraint("tenant_id", "block_id", "unit_id"),
    ForeignKeyConstraint(["tenant_id", "block_id"], ["unit_blocks.tenant_id", "unit_blocks.id"]),
)

TENANT_TABLES = ("inventory_events", "inventory_sessions", "inventory_zones", "sellable_units", "holds",
                 "hold_units", "waitlist_entries", "unit_blocks", "block_units")
