import base64
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from taquilla_contracts import Envelope
from taquilla_contracts.common import Buyer
from taquilla_contracts.orders import IssueTickets, TicketUnit
from taquilla_devtools.testing import eventually, service_harness, staff


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


class Doors:
    """The organizer's staff setting up doors, devices pairing, and tickets to scan."""

    def __init__(self, harness, orders: Orders):
        self.h = harness
        self.orders = orders

    async def issue(self, tenant_id: uuid.UUID, *, event_id: uuid.UUID, units: int = 1,
                    zone_id: uuid.UUID | None = None, holder_id: uuid.UUID | None = None,
                    starts_in: timedelta = timedelta(days=30)) -> list[dict]:
        """Tickets of one paid order, as their holder sees them (with their QR)."""
        command = self.orders.command(tenant_id, units=units, holder_id=holder_id or uuid.uuid4())
        zone = zone_id or command.units[0].zone_id
        command = command.model_copy(update={
            "event_id": event_id, "session_starts_at": datetime.now(UTC) + starts_in,
            "units": [u.model_copy(update={"zone_id": zone}) for u in command.units]})
        await self.h.publish(self.orders.envelope(command, tenant_id))
        headers = staff(tenant_id)

        async def issued():
            found = await self.orders.tickets(headers, command.order_id)
            return found if len(found) == units else None
        return await eventually(issued)

    async def new_list(self, tenant_id: uuid.UUID, event_id: uuid.UUID, **fields) -> dict:
        body = {"event_id": str(event_id), "name": fields.pop("name", f"List {uuid.uuid4().hex[:6]}"), **fields}
        response = await self.h.client.post("/api/v1/tickets/lists", json=body, headers=staff(tenant_id))
        assert response.status_code == 201, response.text
        return response.json()

    async def register(self, tenant_id: uuid.UUID, list_id: str, door: str = "Puerta 1") -> dict:
        response = await self.h.client.post("/api/v1/tickets/devices", headers=staff(tenant_id, ("event_operator",)),
                                            json={"name": f"Scanner {door}", "list_id": list_id, "door": door})
        assert response.status_code == 201, response.text
        return response.json()

    async def device(self, tenant_id: uuid.UUID, list_id: str, door: str = "Puerta 1") -> dict[str, str]:
        """A paired scanner: the headers it sends."""
        registered = await self.register(tenant_id, list_id, door)
        response = await self.h.client.post("/api/v1/tickets/devices/pair", json={"code": registered["pairing_code"]})
        assert response.status_code == 200, response.text
        return {"Authorization": f"Device {response.json()['device_token']}"}

    async def scan(self, device: dict[str, str], qr: str, direction: str = "entry") -> dict:
        response = await self.h.client.post("/api/v1/tickets/scanner/scans", headers=device,
                                            json={"qr": qr, "direction": direction})
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def doors(h, orders) -> Doors:
    return Doors(h, orders)
