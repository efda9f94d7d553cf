"""known order payments: what a receipt says is left to pay of an order paid in parts

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
from taquilla_platform.migrations import enable_tenant_rls

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('known_order_payments',
    sa.Column('tenant_id', sa.UUID(), nullable=False),
    sa.Column('payment_id', sa.UUID(), nullable=False),
    sa.Column('order_id', sa.UUID(), nullable=False),
    sa.Column('amount_minor', sa.BigInteger(), nullable=False),
    sa.Column('currency', sa.String(length=3), nullable=False),
    sa.Column('captured_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tenant_id', 'payment_id')
    )
    op.create_index('known_order_payments_by_order', 'known_order_payments', ['tenant_id', 'order_id'], unique=False)
    enable_tenant_rls('known_order_payments')


def downgrade() -> None:
    op.drop_index('known_order_payments_by_order', table_name='known_order_payments')
    op.drop_table('known_order_payments')
