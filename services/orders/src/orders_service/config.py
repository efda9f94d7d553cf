from pydantic import BaseModel
from taquilla_platform.settings import (
    AuthSettings,
    BrokerSettings,
    DatabaseSettings,
    HttpSettings,
    ServiceSettings,
    settings_config,
)


class InventoryClientSettings(BaseModel):
    target: str  # host:port of the inventory gRPC server
    timeout_seconds: float = 2.0  # every call carries a deadline


class Settings(ServiceSettings):
    model_config = settings_config("ORDERS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8003)
    inventory: InventoryClientSettings
    saga_stall_seconds: int = 30  # a saga step unanswered this long is sent again by the reconciler
