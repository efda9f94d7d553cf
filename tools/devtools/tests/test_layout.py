"""PlatformLayout: what each service is told about its database, ports and neighbours."""
from taquilla_devtools.services import SERVICES, PlatformLayout
from taquilla_devtools.testing import test_layout as layout_for_test


def test_every_service_gets_its_own_database_with_an_app_role_that_does_not_own_it():
    layout = PlatformLayout()
    urls = {}
    for service in SERVICES:
        env = layout.env(service)
        prefix = service.upper()
        app_url, owner_url = env[f"{prefix}_DB__URL"], env[f"{prefix}_DB__MIGRATION_URL"]
        assert app_url == f"postgresql+asyncpg://taquilla_app@127.0.0.1:5432/taquilla_{service}"
        assert owner_url == f"postgresql+asyncpg://taquilla@127.0.0.1:5432/taquilla_{service}"
        urls[service] = app_url
    assert len(set(urls.values())) == len(SERVICES)
    assert layout.db_app_role != layout.db_owner


def test_ports_are_distinct_and_match_the_documented_table():
    layout = PlatformLayout()
    http = {s: layout.http_port(s) for s in SERVICES}
    assert http == {"gateway": 8000, "catalog": 8001, "inventory": 8002, "orders": 8003, "payments": 8004,
                    "fiscal": 8005, "tickets": 8006, "notifications": 8007}
    every_port = [*http.values(), layout.grpc_port, layout.smtp_port]
    assert len(set(every_port)) == len(every_port)
    for service in SERVICES:
        assert layout.env(service)[f"{service.upper()}_HTTP__PORT"] == str(http[service])


def test_services_are_wired_to_each_other_through_the_layout():
    layout = PlatformLayout(http_base_port=18000, grpc_port=18051, smtp_port=18025)
    gateway = layout.env("gateway")
    for upstream in SERVICES[1:]:
        assert gateway[f"GATEWAY_UPSTREAMS__{upstream.upper()}"] == layout.url(upstream)
    assert layout.env("inventory")["INVENTORY_GRPC__PORT"] == "18051"
    assert layout.env("orders")["ORDERS_INVENTORY__TARGET"] == "127.0.0.1:18051"
    assert layout.env("notifications")["NOTIFICATIONS_SMTP__PORT"] == "18025"
    assert "GATEWAY_UPSTREAMS__CATALOG" not in layout.env("catalog")  # each service gets only its own settings


def test_test_layouts_never_share_databases_or_broker_names_with_development():
    dev, a, b = PlatformLayout(), layout_for_test("a"), layout_for_test("b")
    assert len({dev.database("orders"), a.database("orders"), b.database("orders")}) == 3
    assert len({dev.broker_prefix, a.broker_prefix, b.broker_prefix}) == 3
    assert a.env("orders")["ORDERS_ENVIRONMENT"] == "test"
