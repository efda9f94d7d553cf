"""resale: the organizer's policy per event and holders' listings

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa
from taquilla_platform.migrations import enable_tenant_rls

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('resale_policies',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('allowed', sa.Boolean(), nullable=False),
    sa.Column('fee_percent', sa.Numeric(precision=5, scale=2), server_default=sa.text('0'), nullable=False),
    sa.Column('fee_fixed_minor', sa.BigInteger(), server_default=sa.text('0'), nullable=False),
    sa.Column('cutoff_minutes', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint('fee_percent >= 0 AND fee_percent <= 100', name='resale_policies_fee_percent'),
    sa.CheckConstraint('fee_fixed_minor >= 0', name='resale_policies_fee_fixed'),
    sa.CheckConstraint('cutoff_minutes >= 0', name='resale_policies_cutoff'),
    sa.PrimaryKeyConstraint('tenant_id', 'event_id')
    )
    op.create_table('resale_listings',
    sa.Column('id', sa.UUID(), nullable=False),
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('ticket_id', sa.UUID(), nullable=False),
    sa.Column('event_id', sa.UUID(), nullable=False),
    sa.Column('session_id', sa.UUID(), nullable=False),
    sa.Column('seller_user_id', sa.UUID(), nullable=False),
    sa.Column('seller_order_id', sa.UUID(), nullable=False),
    sa.Column('face_value_minor', sa.BigInteger(), nullable=False),
    sa.Column('price_minor', sa.BigInteger(), nullable=False),
    sa.Column('fee_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('order_id', sa.UUID(), nullable=True),
    sa.Column('reserved_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('sold_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('listed', 'reserved', 'sold', 'withdrawn')", name='resale_listings_status'),
    sa.CheckConstraint('price_minor > 0 AND price_minor <= face_value_minor', name='resale_listings_price_cap'),
    sa.CheckConstraint('fee_minor >= 0 AND fee_minor < price_minor', name='resale_listings_fee'),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('resale_listings_by_event', 'resale_listings', ['event_id', 'status'], unique=False)
    op.create_index('resale_listings_by_seller', 'resale_listings', ['seller_user_id'], unique=False)
    op.create_index('resale_listings_one_open_per_ticket', 'resale_listings', ['ticket_id'], unique=True,
                    postgresql_where=sa.text("status IN ('listed', 'reserved')"))
    for table in ('resale_policies', 'resale_listings'):
        enable_tenant_rls(table)


def downgrade() -> None:
    op.drop_index('resale_listings_one_open_per_ticket', table_name='resale_listings')
    op.drop_index('resale_listings_by_seller', table_name='resale_listings')
    op.drop_index('resale_listings_by_event', table_name='resale_listings')
    op.drop_table('resale_listings')
    op.drop_table('resale_policies')
