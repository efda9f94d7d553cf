"""orders: payment plans (installments and flexible contributions)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('event_offers', sa.Column('payment_plans', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('orders', sa.Column('plan', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    op.add_column('refunds', sa.Column('payment_id', sa.UUID(), nullable=True))


def downgrade() -> None:
    op.drop_column('refunds', 'payment_id')
    op.drop_column('orders', 'plan')
    op.drop_column('event_offers', 'payment_plans')
