"""keys that fit one lookup only: holds' by the hold id first, units' position key by the position first

Revision ID: 0004
Revises: 0003

A query for a buyer's holds (the per-buyer limit, checked inside every hold) names the tenant, the
session and the buyer. With the key led by tenant_id, the primary key matched it too (by the tenant
alone), and a plan made while the table was small (the first minutes of a new database's first
on-sale, when the hold statements are prepared and their plans kept) could pick it and read every hold
of the tenant for each new hold. Led by the id, the key serves only lookups of one hold, and the
buyer's index is the only one that fits the buyer query, however small the table was when it was
planned.

The same for general admission: a pick of the zone's next free units (tenant, session, zone, position
from a point, status available) fitted both the partial index of available units and the unique key
of positions, which PostgreSQL thinks as good when its statistics were taken before the on-sale (every
unit available). Through the unique key the pick steps over every unit already taken (measured: 5,900
pages for one pick). Led by the position, the unique key still makes unit creation idempotent and no
longer fits the pick.

And the waitlist's offers out get an index: the job that settles them every second from their holds'
outcome read every hold three times a second without it.
"""
import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


OLD_POSITION_KEY = 'sellable_units_tenant_id_session_id_zone_id_position_key'


def upgrade() -> None:
    op.drop_constraint(OLD_POSITION_KEY, 'sellable_units', type_='unique')
    op.create_unique_constraint('sellable_units_position_key', 'sellable_units',
                                ['position', 'zone_id', 'session_id', 'tenant_id'])
    op.drop_constraint('hold_units_tenant_id_hold_id_fkey', 'hold_units', type_='foreignkey')
    op.drop_constraint('holds_pkey', 'holds', type_='primary')
    op.create_primary_key('holds_pkey', 'holds', ['id', 'tenant_id'])
    op.create_foreign_key('hold_units_tenant_id_hold_id_fkey', 'hold_units', 'holds',
                          ['tenant_id', 'hold_id'], ['tenant_id', 'id'])
    op.create_index('waitlist_offers_out', 'waitlist_entries', ['offer_hold_id'], unique=False,
                    postgresql_where=sa.text("status = 'offered'"))


def downgrade() -> None:
    op.drop_index('waitlist_offers_out', table_name='waitlist_entries', postgresql_where=sa.text("status = 'offered'"))
    op.drop_constraint('sellable_units_position_key', 'sellable_units', type_='unique')
    op.create_unique_constraint(OLD_POSITION_KEY, 'sellable_units', ['tenant_id', 'session_id', 'zone_id', 'position'])
    op.drop_constraint('hold_units_tenant_id_hold_id_fkey', 'hold_units', type_='foreignkey')
    op.drop_constraint('holds_pkey', 'holds', type_='primary')
    op.create_primary_key('holds_pkey', 'holds', ['tenant_id', 'id'])
    op.create_foreign_key('hold_units_tenant_id_hold_id_fkey', 'hold_units', 'holds',
                          ['tenant_id', 'hold_id'], ['tenant_id', 'id'])
