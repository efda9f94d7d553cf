from pydantic import BaseModel, SecretStr, field_validator
from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    HttpSettings,
    ServiceSettings,
    settings_config,
)

MIN_MASTER_KEY_LENGTH = 32


class SigningSettings(BaseModel):
    # Wraps every organizer's Ed25519 private key (AES-256-GCM under a per-tenant HKDF-SHA256 key).
    master_key: SecretStr

    @field_validator("master_key")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_MASTER_KEY_LENGTH:
            raise ValueError(f"the signing master key needs at least {MIN_MASTER_KEY_LENGTH} characters")
        return value


class Settings(ServiceSettings):
    model_config = settings_config("TICKETS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8006)
    signing: SigningSettings
