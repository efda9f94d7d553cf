from pydantic import BaseModel, SecretStr, model_validator
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

from .adapters.providers.builtin import DEVELOPMENT_SECRET
from .adapters.providers.wompi import CHECKOUT_URL
from .domain.manual import ManualMethod


class StripeSettings(BaseModel):
    """PAYMENTS_STRIPE__API_KEY, PAYMENTS_STRIPE__WEBHOOK_SECRET (whsec_…); the provider is on when set."""

    api_key: SecretStr
    webhook_secret: SecretStr
    api_base: str = "https://api.stripe.com"  # a local fake in tests
    max_network_retries: int = Field(2, ge=0, le=5)  # retried with the same idempotency key
    return_url: str | None = None  # where 3-D Secure brings the buyer back, unless the request names one


class WompiSettings(BaseModel):
    """PAYMENTS_WOMPI__PUBLIC_KEY, __INTEGRITY_SECRET, __EVENTS_SECRET; the provider is on when set."""

    public_key: str
    integrity_secret: SecretStr
    events_secret: SecretStr
    checkout_url: str = CHECKOUT_URL
    redirect_url: str | None = None


class Settings(ServiceSettings):
    model_config = settings_config("PAYMENTS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8004)
    # The `test` provider lets the caller choose the outcome: never on in production unless asked for.
    test_provider_enabled: bool | None = None
    test_provider_webhook_secret: SecretStr = SecretStr(DEVELOPMENT_SECRET)
    # Where the test provider posts its "later" webhooks (default: this service's own API); "" sends none.
    test_provider_webhook_url: str | None = None
    test_provider_webhook_delay_seconds: float = Field(2.0, ge=0, le=3600)
    manual_methods: list[ManualMethod] = Field(default_factory=lambda: list(ManualMethod))
    stripe: StripeSettings | None = None
    wompi: WompiSettings | None = None
    idempotency_keys_kept_hours: int = Field(24, ge=1)  # a retry after this is a new request
    # How long POST /payments waits for an order it has not heard of yet (its orders.order.placed event still
    # on the way) before answering 409 order-not-payable-yet; 0 answers at once. Below the gateway's timeout.
    order_arrival_wait_seconds: float = Field(5.0, ge=0, le=25)

    @property
    def test_provider_on(self) -> bool:
        if self.test_provider_enabled is not None:
            return self.test_provider_enabled
        return self.environment is not Environment.production

    @property
    def test_provider_webhook_target(self) -> str | None:
        if self.test_provider_webhook_url is not None:
            return self.test_provider_webhook_url or None
        return f"http://{self.http.host}:{self.http.port}/api/v1/payments/webhooks/test"

    @model_validator(mode="after")
    def _no_known_webhook_secret_in_production(self) -> "Settings":
        if (self.environment is Environment.production and self.test_provider_on
                and self.test_provider_webhook_secret.get_secret_value() == DEVELOPMENT_SECRET):
            raise ValueError("test_provider_webhook_secret is the development one; set a real one in production")
        return self
