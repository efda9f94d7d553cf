"""orders: sales channel, the staff member who placed it, and when it was paid (for sales reports)

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('orders', sa.Column('channel', sa.String(length=10), server_default='online', nullable=False))
    op.add_column('orders', sa.Column('placed_by', sa.UUID(), nullable=True))
    op.add_column('orders', sa.Column('placed_by_email', sa.String(length=254), nullable=True))
    op.add_column('orders', sa.Column('paid_at', sa.DateTime(timezone=True), nullable=True))
    # orders paid before this column existed: the payment's capture time is in the payment document
    op.execute("UPDATE orders SET paid_at = (payment ->> 'captured_at')::timestamptz "
               "WHERE payment ? 'captured_at'")
    op.create_index('orders_tenant_paid', 'orders', ['tenant_id', 'paid_at', 'id'], unique=False,
                    postgresql_where=sa.text('paid_at IS NOT NULL'))
    op.create_index('refunds_tenant_completed', 'refunds', ['tenant_id', 'updated_at'], unique=False,
                    postgresql_where=sa.text("state = 'completed'"))
    op.create_index('saga_transitions_tenant_occurred', 'saga_transitions',
                    ['tenant_id', sa.literal_column('occurred_at DESC')], unique=False)


def downgrade() -> None:
    op.drop_index('saga_transitions_tenant_occurred', table_name='saga_transitions')
    op.drop_index('refunds_tenant_completed', table_name='refunds')
    op.drop_index('orders_tenant_paid', table_name='orders')
    op.drop_column('orders', 'paid_at')
    op.drop_column('orders', 'placed_by_email')
    op.drop_column('orders', 'placed_by')
    op.drop_column('orders', 'channel')
