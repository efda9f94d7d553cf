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
    report_timeout_seconds: float = Field(15.0, gt=0)  # each service's part of a composed report


class SessionSettings(BaseModel):
    """Refresh tokens, emailed account tokens, API-key exchange and two-factor sign-in."""

    refresh_token_ttl_seconds: int = Field(30 * 24 * 3600, ge=60)
    api_key_token_ttl_seconds: int = Field(60, ge=5, le=900)  # the access token an API key is exchanged for
    email_verification_ttl_seconds: int = Field(48 * 3600, ge=60)
    password_reset_ttl_seconds: int = Field(3600, ge=60)
    invitation_ttl_seconds: int = Field(7 * 24 * 3600, ge=60)
    two_factor_setup_ttl_seconds: int = Field(600, ge=60)  # the token that lets staff enrol when 2FA is required
    totp_issuer: str = "Taquilla"
    tenant_status_cache_seconds: int = Field(10, ge=0)  # how long a suspension may take to reach every gateway
    cors_cache_seconds: float = Field(30.0, ge=0)


class RateLimitSettings(BaseModel):
    """Fixed windows counted in Redis; a login lock doubles with each further failure up to the maximum."""

    key_prefix: str | None = None  # default: "<broker prefix>:gateway", so parallel copies never share counters
    window_seconds: int = Field(60, ge=1)
    per_ip: int = Field(3000, ge=1)
    per_user: int = Field(1200, ge=1)
    per_api_key: int = Field(1200, ge=1)
    login_failures_per_account: int = Field(5, ge=1)
    login_failures_per_ip: int = Field(30, ge=1)
    login_failure_window_seconds: int = Field(900, ge=1)
    login_lock_seconds: int = Field(30, ge=1)
    login_max_lock_seconds: int = Field(900, ge=1)


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
    sessions: SessionSettings = SessionSettings()
    limits: RateLimitSettings = RateLimitSettings()
    bootstrap_admin: BootstrapAdmin | None = None

    @property
    def redis_prefix(self) -> str:
        return self.limits.key_prefix or f"{self.broker.prefix}:gateway"
