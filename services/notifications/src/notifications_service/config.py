from typing import Literal

from pydantic import BaseModel, Field, SecretStr, model_validator
from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    HttpSettings,
    ServiceSettings,
    settings_config,
)


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


class Settings(ServiceSettings):
    model_config = settings_config("NOTIFICATIONS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8007)
    smtp: SmtpSettings
    delivery: DeliverySettings = DeliverySettings()
    default_language: Literal["es", "en"] = "es"  # until tenants and buyers choose theirs

    @model_validator(mode="after")
    def _lease_outlives_a_send(self) -> "Settings":
        # a send is cut off at half the lease, so a slow send never overlaps a second worker's retry
        if self.delivery.lease_seconds < 2 * self.smtp.timeout:
            raise ValueError("delivery.lease_seconds must be at least twice smtp.timeout")
        return self
