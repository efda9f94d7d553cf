"""Settings fragments that each service composes into its own `Settings` (env prefix per service).

Nothing here is built at import time: a service builds its settings once in its entrypoint.
"""
from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_SECRETS = {"", "change-me", "changeme", "secret", "development-only-secret"}


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class DatabaseSettings(BaseModel):
    url: str  # the application role: DML only, subject to row-level security
    migration_url: str | None = None  # the owner role that runs migrations; defaults to url
    pool_size: int = 10
    max_overflow: int = 10
    echo: bool = False

    @property
    def owner_url(self) -> str:
        return self.migration_url or self.url


class BrokerSettings(BaseModel):
    url: str = "amqp://guest:guest@127.0.0.1:5672/"
    prefix: str = "taquilla"  # names exchanges and queues; a test run uses its own
    prefetch: int = 32


class RedisSettings(BaseModel):
    url: str = "redis://127.0.0.1:6379/0"


class AuthSettings(BaseModel):
    jwt_secret: SecretStr
    issuer: str = "taquilla"
    access_token_ttl_seconds: int = 900


class HttpSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int


class GrpcServerSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int
    reflection: bool = True


class ServiceSettings(BaseSettings):
    """Base for every service's settings. Subclasses set `model_config` with their env prefix."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    environment: Environment = Environment.production
    log_level: str = "INFO"

    @model_validator(mode="after")
    def _refuse_placeholder_secrets(self) -> ServiceSettings:
        if self.environment is Environment.production:
            for name, value in _secrets(self):
                if value.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS:
                    raise ValueError(f"{name} holds a placeholder secret; set a real one in production")
        return self


def _secrets(model: BaseModel, prefix: str = ""):
    for name, value in model:
        if isinstance(value, SecretStr):
            yield prefix + name, value
        elif isinstance(value, BaseModel):
            yield from _secrets(value, f"{prefix}{name}.")


def settings_config(prefix: str) -> SettingsConfigDict:
    return SettingsConfigDict(env_prefix=prefix, env_nested_delimiter="__", extra="ignore")


__all__ = [
    "AuthSettings",
    "BrokerSettings",
    "DatabaseSettings",
    "Environment",
    "Field",
    "GrpcServerSettings",
    "HttpSettings",
    "RedisSettings",
    "ServiceSettings",
    "settings_config",
]
