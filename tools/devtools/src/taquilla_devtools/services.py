"""The platform's services, their ports and their environment: one place for local runs and tests.

Every service reads its settings from variables prefixed with its name (`ORDERS_DB__URL`), nested
with `__`. The compose file and the Kubernetes manifests set the same variables.
"""
from __future__ import annotations

from dataclasses import dataclass, field

SERVICES = ("gateway", "catalog", "inventory", "orders", "payments", "fiscal", "tickets", "notifications")
PORT_OFFSETS = {name: i for i, name in enumerate(SERVICES)}  # gateway = base, catalog = base + 1, ...
CONSUMERS = ("catalog", "inventory", "orders", "payments", "fiscal", "tickets", "notifications")

DEV_JWT_SECRET = "development-only-jwt-secret-0123456789abcdef"
DEV_MASTER_KEY = "development-only-master-key-0123456789abcdef"
DEMO_ADMIN = ("admin@taquilla.local", "taquilla-admin-2026")


@dataclass(frozen=True)
class PlatformLayout:
    """Where one running copy of the platform lives: ports, database names, broker prefix."""

    http_base_port: int = 8000
    grpc_port: int = 50051
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 1025
    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_prefix: str = "taquilla"  # databases are <prefix>_<service>
    db_owner: str = "taquilla"  # owns the tables, runs migrations
    db_app_role: str = "taquilla_app"  # DML only, subject to row-level security
    broker_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    broker_prefix: str = "taquilla"
    redis_url: str = "redis://127.0.0.1:6379/0"
    environment: str = "development"
    extra_env: dict[str, str] = field(default_factory=dict)
    db_ports: dict[str, int] = field(default_factory=dict)  # a service whose database is on another port

    def database_port(self, service: str) -> int:
        return self.db_ports.get(service, self.db_port)

    def http_port(self, service: str) -> int:
        return self.http_base_port + PORT_OFFSETS[service]

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.http_port(service)}"

    def database(self, service: str) -> str:
        return f"{self.db_prefix}_{service}"

    def env(self, service: str) -> dict[str, str]:
        p = service.upper() + "_"
        db = f"{self.db_host}:{self.database_port(service)}/{self.database(service)}"
        env = {
            f"{p}ENVIRONMENT": self.environment,
            f"{p}DB__URL": f"postgresql+asyncpg://{self.db_app_role}@{db}",
            f"{p}DB__MIGRATION_URL": f"postgresql+asyncpg://{self.db_owner}@{db}",
            f"{p}BROKER__URL": self.broker_url,
            f"{p}BROKER__PREFIX": self.broker_prefix,
            f"{p}REDIS__URL": self.redis_url,
            f"{p}AUTH__JWT_SECRET": DEV_JWT_SECRET,
            f"{p}HTTP__HOST": "127.0.0.1",
            f"{p}HTTP__PORT": str(self.http_port(service)),
        }
        if service == "gateway":
            for upstream in SERVICES[1:]:
                env[f"GATEWAY_UPSTREAMS__{upstream.upper()}"] = self.url(upstream)
            env["GATEWAY_BOOTSTRAP_ADMIN__EMAIL"] = DEMO_ADMIN[0]
            env["GATEWAY_BOOTSTRAP_ADMIN__PASSWORD"] = DEMO_ADMIN[1]
        if service == "inventory":
            env["INVENTORY_GRPC__HOST"] = "127.0.0.1"
            env["INVENTORY_GRPC__PORT"] = str(self.grpc_port)
        if service == "orders":
            env["ORDERS_INVENTORY__TARGET"] = f"127.0.0.1:{self.grpc_port}"
            env["ORDERS_CATALOG__BASE_URL"] = self.url("catalog")
            env["ORDERS_TICKETS__BASE_URL"] = self.url("tickets")
        if service == "notifications":
            env["NOTIFICATIONS_SMTP__HOST"] = self.smtp_host
            env["NOTIFICATIONS_SMTP__PORT"] = str(self.smtp_port)
            env["NOTIFICATIONS_SMTP__FROM_ADDRESS"] = "Taquilla <tickets@taquilla.local>"
        if service == "tickets":
            env["TICKETS_SIGNING__MASTER_KEY"] = DEV_MASTER_KEY
        env.update(self.extra_env)
        return env
