from decimal import Decimal

from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    HttpSettings,
    ServiceSettings,
    settings_config,
)


class Settings(ServiceSettings):
    model_config = settings_config("FISCAL_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8005)
    default_vat_rate: Decimal = Decimal("0.16")  # until a tenant configures its taxes (IVA in the seed)
    default_tax_code: str = "IVA"
    default_tax_name: str = "IVA"
    default_series_prefix: str = "A-"
    default_credit_note_prefix: str = "NC-"
    default_series_padding: int = 8
    default_time_zone: str = "America/Caracas"  # until the organizer's own time zone is known
    offline_block_size: int = 50
    offline_block_hours: int = 8
    offline_void_grace_minutes: int = 60  # a late upload of a sale made in time is still accepted
    offline_sweep_seconds: float = 60.0
