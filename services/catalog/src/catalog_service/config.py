from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    Environment,
    HttpSettings,
    ServiceSettings,
    settings_config,
)


class Settings(ServiceSettings):
    model_config = settings_config("CATALOG_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8001)
    idempotency_key_ttl_hours: int = 24  # how long a repeated POST /events gets its first answer back
    idempotency_purge_interval_seconds: float = 3600
    complete_events_after_hours: float = 6  # after the last session starts, the event is completed
    stage_sweep_interval_seconds: float = 15  # how soon a stage past its end date is recorded and announced

    @property
    def is_production(self) -> bool:
        return self.environment is Environment.production
