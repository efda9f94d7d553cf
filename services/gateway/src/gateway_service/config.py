from pydantic import AnyHttpUrl, BaseModel, Field, SecretStr, field_validator
from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    HttpSettings,
    RedisSettings,
    ServiceSettings,
    settings_config,
)

from .domain.identity import MIN_PASSWORD_LENGTH, normalize_email


class Upstreams(BaseModel):
    """Base URLs of the services behind the gateway (GATEWAY_UPSTREAMS__CATALOG=http://...)."""

    catalog: AnyHttpUrl
    inventory: AnyHttpUrl
    orders: AnyHttpUrl
    payments: AnyHttpUrl
    fiscal: AnyHttpUrl
    tickets: AnyHttpUrl
    notifications: AnyHttpUrl

    def base_url(self, upstream: str) -> str:
        return str(getattr(self, upstream)).rstrip("/")

    def as_dict(self) -> dict[str, str]:
        return {name: self.base_url(name) for name in type(self).model_fields}


class ProxySettings(BaseModel):
    connect_timeout_seconds: float = Field(2.0, gt=0)
    read_timeout_seconds: float = Field(30.0, gt=0)  # a slower upstream answer is a 504
    max_connections: int = Field(200, ge=1)
    max_body_bytes: int = Field(1_048_576, ge=1)  # larger request bodies are refused with a 413
    openapi_timeout_seconds: float = Field(2.0, gt=0)
    openapi_cache_seconds: float = Field(30.0, ge=0)


class BootstrapAdmin(BaseModel):
    """The first platform admin, created by `migrate` when absent (its password is never overwritten)."""

    email: str
    password: SecretStr
    name: str = "Platform admin"

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return normalize_email(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < MIN_PASSWORD_LENGTH:
            raise ValueError(f"the bootstrap admin password needs at least {MIN_PASSWORD_LENGTH} characters")
        return value


class Settings(ServiceSettings):
    model_config = settings_config("GATEWAY_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8000)
    redis: RedisSettings = RedisSettings()  # rate limits will live there
    upstreams: Upstreams
    proxy: ProxySettings = ProxySettings()
    bootstrap_admin: BootstrapAdmin | None = None
