"""orders: resale orders (a listing bought through the saga)

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('orders', sa.Column('resale', postgresql.JSONB(astext_type=sa.Text()), nullable=True))
    # the refund of a seller's ticket checks for resale orders of it still in flight
    op.create_index('orders_resale_ticket', 'orders', [sa.literal_column("(resale ->> 'ticket_id')")],
                    unique=False, postgresql_where=sa.text('resale IS NOT NULL'))


def downgrade() -> None:
    op.drop_index('orders_resale_ticket', table_name='orders')
    op.drop_column('orders', 'resale')
