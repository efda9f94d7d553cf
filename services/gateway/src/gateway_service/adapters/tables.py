from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, UUID
from taquilla_messaging import messaging_tables
from taquilla_platform.idempotency import idempotency_table

metadata = MetaData()
bus = messaging_tables(metadata)
idempotency = idempotency_table(metadata)

# The gateway's own registry of organizers: not tenant-owned, read across tenants at sign-in.
tenants = Table(
    "tenants", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("slug", String(63), nullable=False, unique=True),
    Column("legal_name", String(200), nullable=False),
    Column("tax_id", String(40), nullable=False),  # RIF (VE) or NIT (CO)
    Column("registry_number", String(40)),  # PULEP (CO)
    Column("address", String(300)),
    Column("city", String(120)),
    Column("country", String(2), nullable=False),  # ISO 3166-1 alpha-2
    Column("currency", String(3), nullable=False),  # ISO 4217
    Column("time_zone", String(64), nullable=False),  # IANA
    Column("status", String(20), nullable=False, server_default=text("'active'")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("branding", JSONB, nullable=False, server_default=text("'{}'::jsonb")),  # logo_url, colors
    Column("storefront_origins", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # CORS
    Column("require_staff_2fa", Boolean, nullable=False, server_default=false()),
    Column("status_changed_at", DateTime(timezone=True)),
)

users = Table(
    "users", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("email", String(254), nullable=False),  # stored lower-cased
    Column("password_hash", String(255), nullable=False),  # Argon2id, PHC string
    Column("name", String(200), nullable=False),
    Column("is_platform_admin", Boolean, nullable=False, server_default=false()),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("last_sign_in_at", DateTime(timezone=True)),
    Column("email_verified_at", DateTime(timezone=True)),
    Column("totp_secret", String(255)),  # encrypted (Fernet); set at setup, active once totp_enabled_at
    Column("totp_enabled_at", DateTime(timezone=True)),
    Column("totp_last_step", BigInteger),  # a code is accepted once
    Column("recovery_codes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),  # sha256 hex, unused
)
# One account per address whatever its case, even if a writer forgot to lower-case it.
Index("users_email_lower_key", func.lower(users.c.email), unique=True)

memberships = Table(
    "memberships", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("role", String(40), nullable=False),  # taquilla_platform.auth.Role
    Column("event_ids", JSONB),  # an operator limited to these events; null = every event
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("tenant_id", "user_id", "role"),
    Index("memberships_user", "user_id"),
)

admin_audit_log = Table(
    "admin_audit_log", metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("tenant_id", UUID(as_uuid=True), nullable=False),
    Column("actor_user_id", UUID(as_uuid=True), nullable=False),
    Column("action", String(80), nullable=False),  # e.g. tenant.created, membership.granted
    Column("subject_type", String(40), nullable=False),
    Column("subject_id", String(80), nullable=False),
    Column("details", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("request_id", String(128)),
    Column("occurred_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("before", JSONB),
    Column("after", JSONB),
    Column("ip", String(64)),
    Index("admin_audit_log_tenant_time", "tenant_id", "occurred_at"),
)

# Rotating refresh tokens: one row per issued token, a family per sign-in; only hashes are stored.
refresh_tokens = Table(
    "refresh_tokens", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("family_id", UUID(as_uuid=True), nullable=False),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("tenant_id", UUID(as_uuid=True)),  # the organizer the session acts for; none for buyers
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("rotated_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Index("refresh_tokens_family", "family_id"),
    Index("refresh_tokens_user", "user_id"),
)

# Emailed one-time tokens: email verification and password reset (hash only).
account_tokens = Table(
    "account_tokens", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("purpose", String(20), nullable=False),  # verify_email | reset_password
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("used_at", DateTime(timezone=True)),
    Index("account_tokens_user", "user_id", "purpose"),
)

# Partner and integration keys of one organizer; the key itself is shown once, only its hash is kept.
api_keys = Table(
    "api_keys", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("prefix", String(20), nullable=False),  # shown in lists to tell keys apart
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("scopes", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_by", UUID(as_uuid=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True)),
    Column("revoked_at", DateTime(timezone=True)),
    Column("last_used_at", DateTime(timezone=True)),
    Index("api_keys_tenant", "tenant_id", "created_at"),
)
