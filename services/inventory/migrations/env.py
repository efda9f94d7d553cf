from inventory_service.adapters.tables import metadata
from taquilla_platform.migrations import run_alembic_env

run_alembic_env(metadata)
