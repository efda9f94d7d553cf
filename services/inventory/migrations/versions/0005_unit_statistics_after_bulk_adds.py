"""statistics of the units taken again as soon as an event's or a seat map's units go in

Revision ID: 0005
Revises: 0004

The gRPC process keeps one plan per hold statement (see adapters/hold_connections.py), made when its
connections open. When they opened before an event's units went in (the service deployed, then the
event published), the plan was made for an empty table: best available locked its chosen seats through
the partial index of available units by the tenant alone and read every free unit of the tenant for
each hold (measured in the flash sale: 24 ms and 1,456 pages a hold, against 0.9 ms and 91 pages with
statistics). Autovacuum analyses the table in the end, if it runs at all, but an on-sale can start in
the minute after the publication.

The worker that creates the units calls this function in the same transaction: it analyses the units'
table when the rows just added are a tenth of it or more (or it was never analysed), which is how
autovacuum decides, without waiting. The new statistics invalidate the kept plans on commit, and each is
made again at its next use. ANALYZE needs the table's owner: the function runs as its owner, and does
nothing else.
"""
from alembic import op

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("""
        CREATE FUNCTION refresh_unit_statistics(added bigint) RETURNS boolean
        LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
        BEGIN
            IF (SELECT reltuples FROM pg_class WHERE oid = 'public.sellable_units'::regclass)
               < greatest(added, 1) * 10 THEN
                ANALYZE public.sellable_units;
                RETURN true;
            END IF;
            RETURN false;
        END
        $$
    """)


def downgrade() -> None:
    op.execute("DROP FUNCTION refresh_unit_statistics(bigint)")
