import uuid

from pydantic import BaseModel, Field
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


class CatalogClientSettings(BaseModel):
    base_url: str  # the catalog's REST API (prices, stage allocations, promo redemptions)
    timeout_seconds: float = 3.0


class TicketsClientSettings(BaseModel):
    base_url: str  # the tickets service's REST API (resale listings reserved for resale orders)
    timeout_seconds: float = 3.0


class ResaleRules(BaseModel):
    reservation_seconds: int = Field(600, ge=5, le=3600)  # a resale order's time to pay before its listing goes back


class BuyerRules(BaseModel):
    # The catalog's offer says nothing about national ids yet: required everywhere, or for these organizers.
    national_id_required: bool = False
    national_id_required_tenants: list[uuid.UUID] = []

    def requires_national_id(self, tenant_id: uuid.UUID) -> bool:
        return self.national_id_required or tenant_id in self.national_id_required_tenants


class HoldRules(BaseModel):
    extension_seconds: int = 600  # added to what is left of the hold
    max_ttl_seconds: int = 3600  # inventory's limit for one Hold or Extend call


class PlanRules(BaseModel):
    """Orders paid in parts: when the buyer is reminded and how early the hold is renewed."""
    reminder_lead_seconds: int = Field(48 * 3600, ge=0)  # an installment's reminder goes out this long before it
    hold_renew_margin_seconds: int = Field(300, ge=1)  # renew the hold this long before it lapses (at most half)


class Settings(ServiceSettings):
    model_config = settings_config("ORDERS_")

    db: DatabaseSettings
    broker: BrokerSettings = BrokerSettings()
    auth: AuthSettings
    http: HttpSettings = HttpSettings(port=8003)
    inventory: InventoryClientSettings
    catalog: CatalogClientSettings
    tickets: TicketsClientSettings
    resale: ResaleRules = ResaleRules()
    buyer: BuyerRules = BuyerRules()
    holds: HoldRules = HoldRules()
    plans: PlanRules = PlanRules()
    saga_stall_seconds: int = 30  # a saga step unanswered this long is sent again by the reconciler
    buyer_refund_cutoff_hours: int = 48  # buyers may ask for refunds until this long before the session
