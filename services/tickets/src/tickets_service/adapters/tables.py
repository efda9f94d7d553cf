from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
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
    # A transfer re-signs the QR with the next generation: codes of an earlier generation are refused.
    Column("qr_generation", Integer, nullable=False, server_default=text("0")),
    Column("transfer_count", Integer, nullable=False, server_default=text("0")),
    Column("void_reason", String(20)),  # refunded / cancelled
    Column("voided_at", DateTime(timezone=True)),
    UniqueConstraint("tenant_id", "order_id", "unit_id"),  # one set of tickets per order, however often asked
    # A seat or place is sold to one valid ticket at a time (a voided one frees it for resale).
    Index("tickets_one_valid_per_unit", "tenant_id", "unit_id", unique=True,
          postgresql_where=text("status = 'valid'")),
    CheckConstraint("status IN ('valid', 'void')", name="tickets_status"),
    CheckConstraint("price_minor >= 0", name="tickets_price_not_negative"),
    Index("tickets_by_order", "order_id"),  # the holder's lookup runs across organizers
    Index("tickets_by_holder", "holder_user_id"),
)

# The organizer's legal identity, as the gateway publishes it (printed on every PDF ticket).
organizers = Table(
    "organizers", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("slug", String(100), nullable=False),
    Column("name", String(200), nullable=False),
    Column("legal_name", String(300), nullable=False),
    Column("tax_id", String(50), nullable=False),
    Column("registry_number", String(100)),
    Column("address", String(500)),
    Column("city", String(200)),
    Column("country", String(2), nullable=False),
    Column("currency", String(3), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("status", String(20), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# What the organizer allows holders to do with an event's tickets.
event_rules = Table(
    "event_rules", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("max_transfers", Integer, nullable=False),
    Column("transfer_cutoff_minutes", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("max_transfers >= 0", name="event_rules_max_transfers"),
    CheckConstraint("transfer_cutoff_minutes >= 0", name="event_rules_cutoff"),
)

checkin_lists = Table(
    "checkin_lists", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(200), nullable=False),
    Column("zone_ids", ARRAY(UUID(as_uuid=True)), nullable=False),  # empty: every zone of the event
    Column("doors", ARRAY(String(100)), nullable=False),  # empty: any door name
    Column("allow_reentry", Boolean, nullable=False),
    Column("max_entries", Integer),  # None: no cap
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "event_id", "name"),
    CheckConstraint("max_entries IS NULL OR max_entries >= 1", name="checkin_lists_max_entries"),
)

scanner_devices = Table(
    "scanner_devices", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("name", String(200), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("list_id", UUID(as_uuid=True), ForeignKey("checkin_lists.id"), nullable=False),
    Column("door", String(100), nullable=False),
    Column("status", String(20), nullable=False),
    Column("pairing_code_hash", String(64)),  # SHA-256; cleared once used
    Column("pairing_expires_at", DateTime(timezone=True)),
    Column("token_hash", String(64)),  # SHA-256 of the device token; the token itself is never stored
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("paired_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('pending', 'active', 'revoked')", name="scanner_devices_status"),
    Index("scanner_devices_pairing_code", "pairing_code_hash", unique=True,
          postgresql_where=text("pairing_code_hash IS NOT NULL")),
)

# Every scan, accepted or refused, online or uploaded later. `passed` marks the scans that let a person
# through (or, uploaded, say they did); the merge replays them in scan time order.
scans = Table(
    "scans", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("list_id", UUID(as_uuid=True), nullable=False),
    Column("device_id", UUID(as_uuid=True), nullable=False),
    Column("door", String(100), nullable=False),
    Column("ticket_id", UUID(as_uuid=True)),
    Column("direction", String(10), nullable=False),
    Column("mode", String(10), nullable=False),
    Column("result", String(30), nullable=False),
    Column("reason", Text),
    Column("passed", Boolean, nullable=False, server_default=text("false")),
    Column("duplicate_of", UUID(as_uuid=True)),
    Column("client_scan_id", UUID(as_uuid=True)),
    Column("scanned_at", DateTime(timezone=True), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("seq", BigInteger, Identity(), nullable=False),  # the peer-sync feed's cursor
    UniqueConstraint("tenant_id", "device_id", "client_scan_id"),  # a re-upload adds nothing
    CheckConstraint("direction IN ('entry', 'exit')", name="scans_direction"),
    CheckConstraint("mode IN ('online', 'offline')", name="scans_mode"),
    Index("scans_by_ticket", "ticket_id", "list_id"),
    Index("scans_by_event", "tenant_id", "event_id"),
    Index("scans_by_list_seq", "list_id", "seq"),
)

ticket_transfers = Table(
    "ticket_transfers", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=False),
    Column("from_name", String(200), nullable=False),
    Column("from_email", String(320), nullable=False),
    Column("from_user_id", UUID(as_uuid=True)),
    Column("to_email", String(320), nullable=False),
    Column("to_name", String(200)),
    Column("to_user_id", UUID(as_uuid=True)),
    Column("status", String(20), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("decided_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('pending', 'accepted', 'cancelled')", name="ticket_transfers_status"),
    Index("ticket_transfers_one_pending", "ticket_id", unique=True, postgresql_where=text("status = 'pending'")),
    Index("ticket_transfers_to", "to_email"),
)

# The organizer's resale policy per event: whether holders may resell, the fee kept from the seller's
# refund (a percent of the price and/or a fixed amount), and until how long before the session.
resale_policies = Table(
    "resale_policies", metadata,
    Column("tenant_id", UUID(as_uuid=True), primary_key=True),
    Column("event_id", UUID(as_uuid=True), primary_key=True),
    Column("allowed", Boolean, nullable=False),
    Column("fee_percent", Numeric(5, 2), nullable=False, server_default=text("0")),
    Column("fee_fixed_minor", BigInteger, nullable=False, server_default=text("0")),
    Column("cutoff_minutes", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("fee_percent >= 0 AND fee_percent <= 100", name="resale_policies_fee_percent"),
    CheckConstraint("fee_fixed_minor >= 0", name="resale_policies_fee_fixed"),
    CheckConstraint("cutoff_minutes >= 0", name="resale_policies_cutoff"),
)

# A holder's ticket offered at (at most) its face value. listed -> reserved (by one resale order, until a
# deadline) -> sold; reserved -> listed when that order is not paid; listed -> withdrawn.
resale_listings = Table(
    "resale_listings", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("ticket_id", UUID(as_uuid=True), ForeignKey("tickets.id"), nullable=False),
    Column("event_id", UUID(as_uuid=True), nullable=False),
    Column("session_id", UUID(as_uuid=True), nullable=False),
    Column("seller_user_id", UUID(as_uuid=True), nullable=False),
    Column("seller_order_id", UUID(as_uuid=True), nullable=False),  # refunded through its payment once sold
    Column("face_value_minor", BigInteger, nullable=False),
    Column("price_minor", BigInteger, nullable=False),
    Column("fee_minor", BigInteger, nullable=False),  # fixed when listed: the seller knows what they get
    Column("currency", String(3), nullable=False),
    Column("status", String(20), nullable=False),
    Column("order_id", UUID(as_uuid=True)),  # the resale order that reserved or bought it
    Column("reserved_until", DateTime(timezone=True)),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("sold_at", DateTime(timezone=True)),
    CheckConstraint("status IN ('listed', 'reserved', 'sold', 'withdrawn')", name="resale_listings_status"),
    CheckConstraint("price_minor > 0 AND price_minor <= face_value_minor", name="resale_listings_price_cap"),
    CheckConstraint("fee_minor >= 0 AND fee_minor < price_minor", name="resale_listings_fee"),
    # A ticket is on sale once at a time; a withdrawn or sold listing frees it.
    Index("resale_listings_one_open_per_ticket", "ticket_id", unique=True,
          postgresql_where=text("status IN ('listed', 'reserved')")),
    Index("resale_listings_by_event", "event_id", "status"),
    Index("resale_listings_by_seller", "seller_user_id"),
)
