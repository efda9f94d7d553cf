from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    Environment,
    Field,
    HttpSettings,
    ServiceSettings,
    settings_config,
)


class Settings(ServiceSettings):
    model_config = settings_config("PAYMENTS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8004)
    # The `test` provider lets the caller choose the outcome: never on in production unless asked for.
    test_provider_enabled: bool | None = None
    idempotency_keys_kept_hours: int = Field(24, ge=1)  # a retry after this is a new request

    @property
    def test_provider_on(self) -> bool:
        if self.test_provider_enabled is not None:
            return self.test_provider_enabled
        return self.environment is not Environment.production
