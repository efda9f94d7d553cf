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
    default_series_prefix: str = "A-"
    default_series_padding: int = 8
