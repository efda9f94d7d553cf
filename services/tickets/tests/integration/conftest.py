import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import IssueTickets, TicketUnit
from taquilla_devtools.testing import service_harness


@pytest.fixture
async def h():
    async with service_harness("tickets") as harness:
        yield harness


class Orders:
    """Builds what the orders saga sends, and reads what the tickets service answers."""

    def __init__(self, harness):
        self.h = harness

    def command(self, tenant_id: uuid.UUID, *, units: int = 2, order_id: uuid.UUID | None = None,
                holder_id: uuid.UUID | None = None, unit_ids: list[uuid.UUID] | None = None) -> IssueTickets:
        zone_id = uuid.uuid4()
        unit_ids = unit_ids or [uuid.uuid4() for _ in range(units)]
        return IssueTickets(
            order_id=order_id or uuid.uuid4(), order_code="TQ-7K2M9", event_id=uuid.uuid4(),
            event_title="Guaco en concierto", session_id=uuid.uuid4(),
            session_starts_at=datetime.now(UTC) + timedelta(days=30),
            holder=Buyer(user_id=holder_id, email="ana@example.test", name="Ana Pérez"), currency="USD",
            fiscal_number="A-00000042",
            units=[TicketUnit(unit_id=unit_id, zone_id=zone_id, zone_name="General", label=f"GA-{i + 1}",
                              price_minor=2500) for i, unit_id in enumerate(unit_ids)],
        )

    @staticmethod
    def envelope(command: IssueTickets, tenant_id: uuid.UUID) -> Envelope:
        return Envelope.wrap(command, source="orders", tenant_id=tenant_id, correlation_id=str(command.order_id))

    async def public_keys(self, tenant_id: uuid.UUID) -> dict[str, bytes]:
        response = await self.h.client.get(f"/api/v1/tickets/keys/{tenant_id}")
        assert response.status_code == 200, response.text
        return {jwk["kid"]: base64.urlsafe_b64decode(jwk["x"] + "=" * (-len(jwk["x"]) % 4))
                for jwk in response.json()["keys"]}

    async def tickets(self, headers: dict[str, str], order_id: uuid.UUID | None = None) -> list[dict]:
        params = {"order_id": str(order_id)} if order_id else {}
        response = await self.h.client.get("/api/v1/tickets", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()["items"]


@pytest.fixture
def orders(h) -> Orders:
    return Orders(h)
