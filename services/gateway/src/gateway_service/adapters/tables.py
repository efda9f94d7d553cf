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
)
# One account per address whatever its case, even if a writer forgot to lower-case it.
Index("users_email_lower_key", func.lower(users.c.email), unique=True)

memberships = Table(
    "memberships", metadata,
    Column("id", UUID(as_uuid=True), primary_key=True),
    Column("tenant_id", UUID(as_uuid=True), ForeignKey("tenants.id"), nullable=False),
    Column("user_id", UUID(as_uuid=True), ForeignKey("users.id"), nullable=False),
    Column("role", String(40), nullable=False),  # taquilla_platform.auth.Role
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
    Index("admin_audit_log_tenant_time", "tenant_id", "occurred_at"),
)
