"""Fiscal days in the organizer's time zone: X reports without closing, Z reports that close the day."""
import io
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from fiscal_test_helpers import CASHIER, issue, issue_and_wait, tenant_registered
from pypdf import PdfReader
from sqlalchemy import text
from taquilla_devtools.testing import eventually, service_harness, staff


async def _open_days(h, tenant):
    response = await h.client.get("/api/v1/fiscal/days", params={"status": "open"}, headers=staff(tenant, CASHIER))
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def _organizer_known(h, tenant):
    async with h.db() as uow:
        return (await uow.session.execute(text("SELECT 1 FROM fiscal_organizers WHERE tenant_id = :t"),
                                          {"t": tenant})).first()


async def test_x_then_z_then_a_new_sale_falls_into_the_next_day_and_z_totals_equal_its_documents():
    async with service_harness("fiscal", name="days") as h:
        tenant = uuid.uuid4()
        await h.publish(tenant_registered(tenant, time_zone="America/Caracas"))
        await eventually(lambda: _organizer_known(h, tenant))
        await issue_and_wait(h, tenant, issue(tenant, lines=((2, 5000),), method="card"), 1)
        docs = await issue_and_wait(h, tenant, issue(tenant, lines=((1, 1999),), method="pago_movil"), 2)

        (day,) = await _open_days(h, tenant)
        assert (day["point_of_sale"], day["cashier"], day["z_number"]) == ("online", "system", 1)
        assert day["business_date"] == datetime.now(ZoneInfo("America/Caracas")).date().isoformat()
        assert day["time_zone"] == "America/Caracas"

        x = await h.client.get(f"/api/v1/fiscal/days/{day['id']}/x-report", headers=staff(tenant, CASHIER))
        assert x.status_code == 200, x.text
        report = x.json()
        assert report["report"] == "X"
        assert report["invoices"]["count"] == 2
        assert (report["invoices"]["first_number"], report["invoices"]["last_number"]) == ("A-00000001", "A-00000002")
        assert report["invoices"]["total_minor"] == 11999
        assert report["invoices"]["by_tax"] == [{"code": "IVA", "name": "IVA", "rate": "0.16", "inclusion": "included",
                                                 "base_minor": sum(d["subtotal_minor"] for d in docs),
                                                 "amount_minor": sum(d["tax_minor"] for d in docs)}]
        assert {m["payment_method"]: m["total_minor"] for m in report["invoices"]["by_payment_method"]} == \
            {"card": 10000, "pago_movil": 1999}
        assert (await _open_days(h, tenant))[0]["id"] == day["id"], "an X report must not close the day"

        z = await h.client.post(f"/api/v1/fiscal/days/{day['id']}/z-report", headers=staff(tenant, CASHIER))
        assert z.status_code == 201, z.text
        closing = z.json()
        assert closing["report"] == "Z" and closing["day"]["status"] == "closed"
        assert closing["invoices"]["total_minor"] == sum(d["total_minor"] for d in docs)
        assert closing["invoices"]["tax_minor"] == sum(d["tax_minor"] for d in docs)
        assert closing["net"]["total_minor"] == 11999
        twice = await h.client.post(f"/api/v1/fiscal/days/{day['id']}/z-report", headers=staff(tenant, CASHIER))
        assert twice.status_code == 409 and twice.json()["errors"][0]["field"] == "day_id"
        x_after = await h.client.get(f"/api/v1/fiscal/days/{day['id']}/x-report", headers=staff(tenant, CASHIER))
        assert x_after.status_code == 409

        docs = await issue_and_wait(h, tenant, issue(tenant, lines=((1, 700),)), 3)
        (next_day,) = await _open_days(h, tenant)
        assert next_day["id"] != day["id"] and next_day["z_number"] == 2
        assert docs[2]["fiscal_day_id"] == next_day["id"]
        stored = await h.client.get(f"/api/v1/fiscal/days/{day['id']}/z-report", headers=staff(tenant))
        assert stored.json()["invoices"]["count"] == 2, "the closed day's Z report never changes"

        pdf = await h.client.get(f"/api/v1/fiscal/days/{day['id']}/z-report", params={"format": "pdf"},
                                 headers=staff(tenant))
        assert pdf.headers["content-type"] == "application/pdf"
        content = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
        assert "REPORTE Z" in content and "A-00000001" in content and "119.99 USD" in content
        x_pdf = await h.client.get(f"/api/v1/fiscal/days/{next_day['id']}/x-report", params={"format": "pdf"},
                                   headers=staff(tenant))
        assert "REPORTE X" in PdfReader(io.BytesIO(x_pdf.content)).pages[0].extract_text()


async def test_a_day_left_open_past_midnight_is_closed_before_the_next_sale():
    async with service_harness("fiscal", name="rollover") as h:
        tenant = uuid.uuid4()
        await issue_and_wait(h, tenant, issue(tenant), 1)
        (day,) = await _open_days(h, tenant)
        # the day before the day's own date (in the organizer's zone, not UTC: they differ after 00:00 UTC)
        yesterday = date.fromisoformat(day["business_date"]) - timedelta(days=1)
        async with h.db() as uow:  # as if the day had been opened yesterday and nobody ran the Z
            await uow.session.execute(text("UPDATE fiscal_days SET business_date = :d WHERE id = :i"),
                                      {"d": yesterday, "i": uuid.UUID(day["id"])})
            await uow.commit()
        await issue_and_wait(h, tenant, issue(tenant), 2)
        closed = (await h.client.get(f"/api/v1/fiscal/days/{day['id']}", headers=staff(tenant))).json()
        assert closed["status"] == "closed" and closed["closed_by"] == "system:date-changed"
        z = (await h.client.get(f"/api/v1/fiscal/days/{day['id']}/z-report", headers=staff(tenant))).json()
        assert z["invoices"]["count"] == 1
        (today,) = await _open_days(h, tenant)
        assert today["z_number"] == 2
