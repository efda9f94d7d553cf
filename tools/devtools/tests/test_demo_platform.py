"""The real platform, as `up` runs it, on ports, databases and a broker prefix of its own: the demo data
lands through the public API, a second seeding changes nothing, and a restarted service comes back."""
from __future__ import annotations

import uuid

import httpx
from taquilla_devtools.databases import drop_databases
from taquilla_devtools.platform import reset_broker, run_platform
from taquilla_devtools.seed import DEMO_BUYER, DEMO_EVENT_TITLE, DEMO_ORGANIZER, seed_demo
from taquilla_devtools.services import CONSUMERS
from taquilla_devtools.smtp_sink import SmtpSink
from taquilla_devtools.testing import test_layout as layout_for_test


async def sign_in(api: httpx.AsyncClient, email: str, password: str) -> dict[str, str]:
    response = await api.post("/api/v1/auth/token", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


async def test_up_seeds_the_demo_once_and_a_restarted_service_comes_back(tmp_path, free_port, free_port_block):
    layout = layout_for_test(f"up{uuid.uuid4().hex[:6]}", http_base_port=free_port_block(),
                             grpc_port=free_port(), smtp_port=free_port())
    try:
        with SmtpSink(tmp_path / "mail", port=layout.smtp_port):
            async with run_platform(layout, fresh=True, log_dir=tmp_path / "logs") as platform:
                first = await seed_demo(platform.gateway_url)
                second = await seed_demo(platform.gateway_url)
                assert first.created == ("tenant", "event", "publication", "buyer")
                assert second.created == () and second.event_id == first.event_id

                async with httpx.AsyncClient(base_url=platform.gateway_url, timeout=15, trust_env=False) as api:
                    events = (await api.get("/api/v1/events")).json()["items"]
                    demo = [e for e in events if e["title"] == DEMO_EVENT_TITLE]
                    assert [(e["status"], e["venue_name"], e["city"]) for e in demo] == \
                        [("on_sale", "Teatro Municipal", "Caracas")]
                    await sign_in(api, DEMO_BUYER.email, DEMO_BUYER.password)
                    organizer = await sign_in(api, DEMO_ORGANIZER.email, DEMO_ORGANIZER.password)
                    tenant = await api.get(f"/api/v1/tenants/{first.tenant_id}", headers=organizer)
                    assert tenant.status_code == 200, tenant.text  # the organizer is staff of the demo tenant
                    assert (tenant.json()["slug"], tenant.json()["tax_id"]) == ("demo", "J-12345678-9")

                    await platform.restart("catalog")
                    again = (await api.get(f"/api/v1/events/{first.event_id}")).json()
                    assert again["title"] == DEMO_EVENT_TITLE
    finally:
        await drop_databases(layout)
        await reset_broker(layout, CONSUMERS)
