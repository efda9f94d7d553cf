from pydantic import BaseModel, Field, SecretStr, field_validator
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


class DeviceSettings(BaseModel):
    pairing_code_ttl_seconds: int = Field(900, ge=60)  # how long an operator's pairing code can be used
    token_ttl_seconds: int = Field(400 * 24 * 3600, ge=3600)  # a paired device signs in again after this


class TransferDefaults(BaseModel):
    # Until the organizer sets an event's rules: how often a ticket may change hands, and until when.
    max_transfers: int = Field(1, ge=0)
    cutoff_minutes: int = Field(60, ge=0)


class Settings(ServiceSettings):
    model_config = settings_config("TICKETS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8006)
    signing: SigningSettings
    devices: DeviceSettings = DeviceSettings()
    transfers: TransferDefaults = TransferDefaults()
