"""Shared builders for the fiscal integration tests."""
import uuid
from datetime import UTC, datetime

from taquilla_contracts import Envelope
from taquilla_contracts.catalog import EventPublished, SessionOnSale, ZoneOnSale
from taquilla_contracts.common import Buyer, OrderLine
from taquilla_contracts.gateway import TenantRegistered
from taquilla_contracts.orders import FiscalLine, IssueFiscalDocument, OrderPlaced
from taquilla_devtools.testing import eventually, staff

CASHIER = ("box_office_cashier",)


def tenant_registered(tenant_id: uuid.UUID, time_zone: str = "America/Caracas") -> Envelope:
    message = TenantRegistered(
        tenant_id=tenant_id, slug="producciones-caracas", name="Producciones Caracas",
        legal_name="Producciones Caracas C.A.", tax_id="J-12345678-9", registry_number=None,
        address="Av. Francisco de Miranda, Torre Europa", city="Caracas", country="VE", currency="USD",
        time_zone=time_zone)
    return Envelope.wrap(message, source="gateway", tenant_id=tenant_id)


def event_published(tenant_id, event_id, session_id, zone_id) -> Envelope:
    message = EventPublished(
        event_id=event_id, slug="concierto", title="Concierto de Gala", venue_name="Teatro Teresa Carreño",
        time_zone="America/Caracas", currency="USD", organizer_name="Producciones Caracas",
        sessions=[SessionOnSale(session_id=session_id, starts_at=datetime(2026, 12, 5, 23, 0, tzinfo=UTC))],
        zones=[ZoneOnSale(zone_id=zone_id, name="Platea", kind="numbered", capacity=100, price_minor=5000,
                          currency="USD")])
    return Envelope.wrap(message, source="catalog", tenant_id=tenant_id)


def order_placed(tenant_id, order_id, event_id, session_id, zone_id, quantity=2, price=5000) -> Envelope:
    message = OrderPlaced(
        order_id=order_id, code="TQ-PLACED", event_id=event_id, session_id=session_id,
        buyer=Buyer(email="ana@example.test", name="Ana Pérez", national_id="V-12345678"),
        lines=[OrderLine(zone_id=zone_id, zone_name="Platea", quantity=quantity, unit_price_minor=price,
                         seat_labels=[f"F-{i}" for i in range(1, quantity + 1)])],
        total_minor=quantity * price, currency="USD", hold_expires_at=datetime.now(UTC))
    return Envelope.wrap(message, source="orders", tenant_id=tenant_id)


def issue(tenant_id, order_id=None, *, lines=((2, 5000),), method="card", buyer: Buyer | None = None) -> Envelope:
    fiscal_lines = [FiscalLine(description=f"Concierto de Gala — Platea {i}", quantity=q, unit_price_minor=p)
                    for i, (q, p) in enumerate(lines)]
    command = IssueFiscalDocument(
        order_id=order_id or uuid.uuid4(), order_code="TQ-ABC123",
        buyer=buyer or Buyer(email="ana@example.test", name="Ana Pérez", national_id="V-12345678"), lines=fiscal_lines,
        total_minor=sum(q * p for q, p in lines), currency="USD", paid_at=datetime.now(UTC), payment_method=method)
    return Envelope.wrap(command, source="orders", tenant_id=tenant_id, correlation_id=str(command.order_id))


async def documents(h, tenant_id, **params) -> list[dict]:
    response = await h.client.get("/api/v1/fiscal/documents", params=params, headers=staff(tenant_id))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def wait_for_documents(h, tenant_id, n, **params) -> list[dict]:
    async def check():
        found = await documents(h, tenant_id, **params)
        return found if len(found) >= n else None
    return await eventually(check, timeout=30)


async def issue_and_wait(h, tenant_id, envelope, expected_total) -> list[dict]:
    await h.publish(envelope)
    return await wait_for_documents(h, tenant_id, expected_total, document_type="invoice")
