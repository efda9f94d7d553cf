"""the event and session of each payable order, for reports by event

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # orders placed before this revision stay without an event: only a tenant admin's report counts them
    op.add_column('payable_orders', sa.Column('event_id', sa.UUID(), nullable=True))
    op.add_column('payable_orders', sa.Column('session_id', sa.UUID(), nullable=True))
    op.create_index('payable_orders_by_event', 'payable_orders', ['tenant_id', 'event_id'], unique=False)


def downgrade() -> None:
    op.drop_index('payable_orders_by_event', table_name='payable_orders')
    op.drop_column('payable_orders', 'session_id')
    op.drop_column('payable_orders', 'event_id')
