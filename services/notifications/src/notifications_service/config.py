import hashlib
import hmac
from typing import Literal
from urllib.parse import quote

from pydantic import BaseModel, Field, SecretStr, model_validator
from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    Environment,
    HttpSettings,
    ServiceSettings,
    settings_config,
)

from .domain.unsubscribe import unsubscribe_token
from .domain.webhooks import retry_span


class SmtpSettings(BaseModel):
    host: str
    port: int = Field(gt=0, lt=65536)
    from_address: str  # "Taquilla <tickets@example.com>"
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    use_tls: bool = False  # implicit TLS (port 465); exclusive with starttls
    timeout: float = Field(30.0, gt=0)  # per SMTP operation

    @model_validator(mode="after")
    def _one_tls_mode(self) -> "SmtpSettings":
        if self.starttls and self.use_tls:
            raise ValueError("smtp.starttls and smtp.use_tls are exclusive: pick one")
        return self


class DeliverySettings(BaseModel):
    poll_seconds: float = Field(0.5, gt=0)
    batch_size: int = Field(20, ge=1)
    concurrency: int = Field(4, ge=1)  # SMTP conversations at once per worker
    lease_seconds: float = Field(300.0, gt=0)  # a claimed message is due again after this (worker died)
    backoff_base_seconds: float = Field(30.0, gt=0)
    backoff_max_seconds: float = Field(3600.0, gt=0)
    max_attempts: int = Field(12, ge=1)  # then the message is failed and staff can see why


class WebhookSettings(BaseModel):
    poll_seconds: float = Field(0.5, gt=0)
    timeout_seconds: float = Field(10.0, gt=0)  # a receiver answers within this or the attempt failed
    max_in_flight: int = Field(64, ge=1)  # requests at once per worker, all endpoints together
    per_endpoint_concurrency: int = Field(4, ge=1)  # so one slow endpoint holds few of those slots
    lease_seconds: float = Field(120.0, gt=0)  # a claimed delivery is due again after this (worker died)
    backoff_base_seconds: float = Field(30.0, gt=0)
    backoff_max_seconds: float = Field(6 * 3600.0, gt=0)
    max_attempts: int = Field(15, ge=1)  # with the defaults: retried for about 32 hours
    disable_after_failures: int = Field(10, ge=1)  # consecutive failed attempts of an endpoint ...
    disable_after_seconds: float = Field(24 * 3600.0, ge=0)  # ... failing for at least this long
    rotation_overlap_seconds: float = Field(24 * 3600.0, ge=0)  # the previous secret still signs this long
    response_excerpt_bytes: int = Field(2048, ge=0)
    allow_local_urls: bool | None = None  # http and private addresses; None: allowed outside production


class ProviderSettings(BaseModel):
    """A Twilio-style messaging API (SMS and WhatsApp): POST {base_url}/Accounts/{sid}/Messages.json."""

    base_url: str = "https://api.twilio.com/2010-04-01"
    account_sid: str | None = None  # without an account, SMS and WhatsApp messages fail with that reason
    auth_token: SecretStr | None = None
    sms_from: str = "+15005550006"
    whatsapp_from: str = "whatsapp:+14155238886"
    status_callback_url: str | None = None  # where the provider reports delivered/failed
    timeout: float = Field(10.0, gt=0)


class Settings(ServiceSettings):
    model_config = settings_config("NOTIFICATIONS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8007)
    smtp: SmtpSettings
    delivery: DeliverySettings = DeliverySettings()
    default_language: Literal["es", "en"] = "es"  # until tenants and buyers choose theirs
    webhooks: WebhookSettings = WebhookSettings()
    provider: ProviderSettings = ProviderSettings()
    public_url: str = "http://127.0.0.1:8000"  # where buyers reach the public API (unsubscribe links)
    # The web app whose /verify-email and /reset-password pages take the emailed token and POST it to the
    # gateway (/api/v1/auth/verify-email, /api/v1/auth/password-reset/confirm): those API routes are POST only.
    storefront_url: str = "http://127.0.0.1:3000"
    event_reminder_hours: float = Field(24.0, gt=0)  # the reminder goes this long before the session
    reminder_poll_seconds: float = Field(60.0, gt=0)

    @property
    def unsubscribe_key(self) -> bytes:
        """Derived from the platform's signing secret: no extra secret to manage, never the secret itself."""
        return hmac.new(self.auth.jwt_secret.get_secret_value().encode(), b"taquilla-unsubscribe",
                        hashlib.sha256).digest()

    def unsubscribe_url(self, tenant_id, email: str) -> str:
        token = unsubscribe_token(self.unsubscribe_key, tenant_id, email)
        return f"{self.public_url.rstrip('/')}/api/v1/notifications/unsubscribe?token={token}"

    def account_link(self, page: str, token: str) -> str:
        """`page` is "verify-email" or "reset-password"; the token is URL-safe base64 but quoted all the same."""
        return f"{self.storefront_url.rstrip('/')}/{page}?token={quote(token, safe='')}"

    def order_link(self, order_id) -> str:
        """The storefront's page of an order, where its buyer pays what is due."""
        return f"{self.storefront_url.rstrip('/')}/orders/{order_id}"

    def waitlist_link(self, entry_id) -> str:
        """The storefront's page for a waitlist entry, where its holder buys what is held for them."""
        return f"{self.storefront_url.rstrip('/')}/waitlist/{entry_id}"

    @property
    def allow_local_webhook_urls(self) -> bool:
        if self.webhooks.allow_local_urls is not None:
            return self.webhooks.allow_local_urls
        return self.environment != Environment.production

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> "Settings":
        # a send is cut off at half the lease, so a slow send never overlaps a second worker's retry
        if self.delivery.lease_seconds < 2 * self.smtp.timeout:
            raise ValueError("delivery.lease_seconds must be at least twice smtp.timeout")
        if self.webhooks.lease_seconds < 2 * self.webhooks.timeout_seconds:
            raise ValueError("webhooks.lease_seconds must be at least twice webhooks.timeout_seconds")
        if self.environment == Environment.production:
            w = self.webhooks
            span = retry_span(w.max_attempts, base_seconds=w.backoff_base_seconds, max_seconds=w.backoff_max_seconds)
            if span < 24 * 3600:
                raise ValueError("webhook retries must span at least 24 hours (backoff and max_attempts)")
        return self
