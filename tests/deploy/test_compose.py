"""docker-compose.yml: valid for Compose, and the platform it describes is the one we mean.

Without a Docker engine the file is validated by Debian's `docker-compose` (`config -q`), then the
normalised config it prints is checked: services, published ports, health checks, start order,
environment and hardening.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from urllib.parse import urlsplit

import pytest
import yaml
from deploy_facts import COMPOSE_FILE, GRPC_SERVICES, LAYOUT, ROOT, SERVICES, SERVICES_MODULE

INFRASTRUCTURE = {"postgres", "rabbitmq", "redis", "otel-collector", "jaeger", "mailpit"}
DEVELOPER_UIS = {"rabbitmq": 15672, "jaeger": 16686, "mailpit": 8025}
GATEWAY_PORT = 8000


def docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail("docker-compose is not installed, so docker-compose.yml cannot be validated. "
                    "`./taquilla test` installs it (Debian package docker-compose); or run "
                    "`apt-get install -y docker-compose`.")
    return found


def compose_env() -> dict[str, str]:
    """The defaults of the file, not whatever TAQUILLA_* variables this shell happens to have."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TAQUILLA_", "COMPOSE_"))}
    return env


def run_compose(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([docker_compose(), "-f", str(COMPOSE_FILE), *args], cwd=ROOT, env=compose_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.fixture(scope="module")
def config() -> dict:
    result = run_compose("config")
    assert result.returncode == 0, f"docker-compose config failed:\n{result.stderr}"
    return yaml.safe_load(result.stdout)


@pytest.fixture(scope="module")
def compose_services(config) -> dict[str, dict]:
    return config["services"]


def long_running(svc: str) -> list[str]:
    return [svc, f"{svc}-worker", *([f"{svc}-grpc"] if svc in GRPC_SERVICES else [])]


def app_containers() -> list[str]:
    return [name for svc in SERVICES for name in long_running(svc)]


def published(service: dict) -> list[tuple[str | None, int, int]]:
    """(host ip, published port, container port) of a service's `ports`, short or long syntax."""
    out = []
    for port in service.get("ports", []):
        if isinstance(port, dict):
            out.append((port.get("host_ip"), int(port["published"]), int(port["target"])))
            continue
        m = re.fullmatch(r"(?:(?P<ip>[\d.]+):)?(?P<pub>\d+):(?P<target>\d+)(?:/\w+)?", str(port))
        assert m, f"unexpected port syntax {port!r}"
        out.append((m["ip"], int(m["pub"]), int(m["target"])))
    return out


def test_compose_file_is_valid():
    result = run_compose("config", "-q")
    assert result.returncode == 0, f"`docker-compose config -q` failed:\n{result.stderr}"


def test_every_service_has_api_worker_and_migrate_containers(compose_services):
    expected = {*INFRASTRUCTURE, *app_containers(), *(f"{svc}-migrate" for svc in SERVICES)}
    assert set(compose_services) == expected


def test_only_the_gateway_and_developer_uis_are_published(compose_services):
    for name, service in compose_services.items():
        ports = published(service)
        if name == "gateway":
            assert [(p, t) for _, p, t in ports] == [(GATEWAY_PORT, GATEWAY_PORT)]
        elif name in DEVELOPER_UIS:
            assert ports == [("127.0.0.1", DEVELOPER_UIS[name], DEVELOPER_UIS[name])], \
                f"{name}: a developer UI is published on localhost only"
        else:
            assert ports == [], f"{name} must not publish a port"
        assert "network_mode" not in service, f"{name} must stay on the compose network"


def test_every_long_running_container_has_a_healthcheck(compose_services):
    for name, service in compose_services.items():
        if name.endswith("-migrate"):
            continue
        check = service.get("healthcheck")
        assert check and not check.get("disable") and check.get("test"), f"{name} has no health check"


def test_service_healthchecks_probe_the_right_kind(compose_services):
    for svc in SERVICES:
        for name, kind in ((svc, "api"), (f"{svc}-worker", "worker"),
                           *(((f"{svc}-grpc", "grpc"),) if svc in GRPC_SERVICES else ())):
            service = compose_services[name]
            assert service["command"] == [kind]
            assert service["healthcheck"]["test"] == ["CMD", "python", "/opt/taquilla/healthcheck.py", kind]


def test_services_wait_for_their_migration_and_healthy_infrastructure(compose_services):
    for svc in SERVICES:
        for name in long_running(svc):
            depends = compose_services[name]["depends_on"]
            assert depends[f"{svc}-migrate"] == {"condition": "service_completed_successfully"}, name
            for infra in ("postgres", "rabbitmq", "redis"):
                assert depends[infra] == {"condition": "service_healthy"}, f"{name} -> {infra}"
        migrate = compose_services[f"{svc}-migrate"]
        assert migrate["command"] == ["migrate"]
        assert migrate.get("restart", "no") == "no", "a one-shot must not restart"
        for infra in ("postgres", "rabbitmq"):  # migrate also declares the service's queues
            assert migrate["depends_on"][infra] == {"condition": "service_healthy"}


def test_all_containers_of_a_service_run_its_image(compose_services):
    for svc in SERVICES:
        for name in [*long_running(svc), f"{svc}-migrate"]:
            service = compose_services[name]
            assert service["build"]["dockerfile"] == "deploy/docker/service.Dockerfile"
            assert service["build"]["args"] == {"SERVICE": svc}
            assert service["image"].startswith(f"taquilla/{svc}:")


def test_service_containers_are_hardened(compose_services):
    for svc in SERVICES:
        for name in [*long_running(svc), f"{svc}-migrate"]:
            service = compose_services[name]
            assert service.get("read_only") is True, f"{name}: root filesystem must be read-only"
            assert "/tmp" in service.get("tmpfs", []), f"{name}: needs a writable /tmp"
            assert service.get("cap_drop") == ["ALL"], name
            assert "no-new-privileges:true" in service.get("security_opt", []), name
            assert "user" not in service or service["user"] not in ("0", "root"), name


def test_each_service_gets_every_variable_it_reads(compose_services):
    """services.py lists what a service reads; compose must set all of it, with compose's hosts."""
    for svc in SERVICES:
        wanted = set(LAYOUT.env(svc))
        owner_key = f"{svc.upper()}_DB__MIGRATION_URL"
        for name in long_running(svc):
            env = compose_services[name]["environment"]
            assert wanted - {owner_key} <= set(env), f"{name} misses {sorted(wanted - set(env) - {owner_key})}"
            assert owner_key not in env, f"{name} must not get the owner role"
        migrate_env = compose_services[f"{svc}-migrate"]["environment"]
        assert wanted <= set(migrate_env), f"{svc}-migrate misses {sorted(wanted - set(migrate_env))}"


def test_environment_values_fit_the_compose_network(compose_services):
    for svc in SERVICES:
        p = svc.upper() + "_"
        env = compose_services[f"{svc}-migrate"]["environment"]
        assert env[f"{p}ENVIRONMENT"] == "development"
        assert env[f"{p}HTTP__HOST"] == "0.0.0.0"
        assert env[f"{p}HTTP__PORT"] == str(LAYOUT.http_port(svc))
        app_db, owner_db = urlsplit(env[f"{p}DB__URL"]), urlsplit(env[f"{p}DB__MIGRATION_URL"])
        assert (app_db.username, app_db.hostname, app_db.path) == \
            (LAYOUT.db_app_role, "postgres", f"/{LAYOUT.database(svc)}")
        assert (owner_db.username, owner_db.hostname, owner_db.path) == \
            (LAYOUT.db_owner, "postgres", f"/{LAYOUT.database(svc)}")
        assert urlsplit(env[f"{p}BROKER__URL"]).hostname == "rabbitmq"
        assert urlsplit(env[f"{p}REDIS__URL"]).hostname == "redis"
        assert env["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"
    gateway = compose_services["gateway"]["environment"]
    for upstream in SERVICES[1:]:
        assert gateway[f"GATEWAY_UPSTREAMS__{upstream.upper()}"] == f"http://{upstream}:{LAYOUT.http_port(upstream)}"
    assert compose_services["orders"]["environment"]["ORDERS_INVENTORY__TARGET"] == "inventory-grpc:50051"
    assert compose_services["inventory-grpc"]["environment"]["INVENTORY_GRPC__HOST"] == "0.0.0.0"
    assert compose_services["notifications"]["environment"]["NOTIFICATIONS_SMTP__HOST"] == "mailpit"


def test_secret_defaults_are_marked_development_only():
    text = COMPOSE_FILE.read_text()
    defaults = re.findall(r"\$\{(TAQUILLA_[A-Z_]*(?:SECRET|PASSWORD|KEY)[A-Z_]*):-([^}]*)\}", text)
    assert defaults, "expected ${TAQUILLA_...:-default} secrets"
    for name, default in defaults:
        if name == "TAQUILLA_ADMIN_PASSWORD":  # the demo admin every local run has (services.py)
            assert default == SERVICES_MODULE.DEMO_ADMIN[1]
            continue
        assert default.startswith("development-only-"), f"{name}'s default must say development-only"
    assert "DEVELOPMENT ONLY" in text


def test_postgres_init_creates_the_roles_and_every_database(compose_services):
    mounts = compose_services["postgres"]["volumes"]
    assert any(str(m).startswith(f"{ROOT}/deploy/compose/postgres-init.sh:/docker-entrypoint-initdb.d/")
               for m in mounts), mounts
    script = (ROOT / "deploy/compose/postgres-init.sh").read_text()
    listed = re.search(r'^SERVICES="([^"]+)"', script, re.M)
    assert listed and tuple(listed[1].split()) == SERVICES
    assert f"CREATE ROLE {LAYOUT.db_owner} LOGIN" in script
    assert f"CREATE ROLE {LAYOUT.db_app_role} LOGIN" in script
    assert 'OWNER taquilla' in script
    assert compose_services["postgres"]["image"].startswith("postgres:15")
    assert compose_services["rabbitmq"]["image"].startswith("rabbitmq:3.10") and \
        "management" in compose_services["rabbitmq"]["image"]
    assert compose_services["redis"]["image"].startswith("redis:7")


def test_otel_collector_config_is_consistent():
    config = yaml.safe_load((ROOT / "deploy/compose/otel-collector.yaml").read_text())
    pipelines = config["service"]["pipelines"]
    assert set(pipelines) >= {"traces", "metrics"}
    for name, pipeline in pipelines.items():
        for section in ("receivers", "processors", "exporters"):
            for item in pipeline.get(section, []):
                assert item in config[section], f"pipeline {name} uses undefined {section[:-1]} {item}"
    assert set(config["service"]["extensions"]) <= set(config["extensions"])
    assert any(e.startswith("otlp") and config["exporters"][e]["endpoint"].startswith("jaeger:")
               for e in pipelines["traces"]["exporters"]), "traces go to Jaeger"
    targets = config["receivers"]["prometheus"]["config"]["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == [f"{svc}:{LAYOUT.http_port(svc)}" for svc in SERVICES]
