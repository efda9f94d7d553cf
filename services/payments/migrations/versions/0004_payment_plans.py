"""orders paid in parts: the plan of a payable order, and one capture per part of it

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('payable_orders', sa.Column('plan', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('payments', sa.Column('plan_part', sa.Integer(), server_default=sa.text('0'), nullable=False))
    op.drop_index('payments_one_capture_per_order', table_name='payments')
    op.create_index('payments_one_capture_per_order', 'payments', ['tenant_id', 'order_id', 'plan_part'],
                    unique=True, postgresql_where=sa.text("status = 'captured'"))


def downgrade() -> None:
    op.drop_index('payments_one_capture_per_order', table_name='payments')
    op.create_index('payments_one_capture_per_order', 'payments', ['tenant_id', 'order_id'], unique=True,
                    postgresql_where=sa.text("status = 'captured'"))
    op.drop_column('payments', 'plan_part')
    op.drop_column('payable_orders', 'plan')
