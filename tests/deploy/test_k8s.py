"""deploy/k8s: the kustomize tree is whole, current with generate.py, and its workloads are hardened.

Most checks read the committed YAML. Where `kubectl` (with its built-in kustomize) is on the
machine, each overlay is also rendered and checked as a cluster would receive it.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from deploy_facts import GRPC_SERVICES, K8S, LAYOUT, SERVICES

KUSTOMIZATION_NAMES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
OVERLAYS = ("dev", "prod")
SECRET = "taquilla-secrets"
VERSION_TAG = re.compile(r"^v?\d+\.\d+\.\d+([.-][0-9A-Za-z.-]+)?$")


def yaml_files() -> list[Path]:
    return sorted(p for p in K8S.rglob("*") if p.suffix in (".yaml", ".yml"))


@cache
def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d is not None]


def manifests() -> list[tuple[Path, dict]]:
    """Every Kubernetes object committed (kustomizations, patches and collector config aside)."""
    out = []
    for path in yaml_files():
        if path.name in KUSTOMIZATION_NAMES or "overlays" in path.parts or path.name.endswith("-config.yaml"):
            continue
        out += [(path, doc) for doc in documents(path)]
    return out


def objects(kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for _, doc in manifests() if doc["kind"] == kind}


def kustomizations() -> list[Path]:
    return sorted(p for p in K8S.rglob("kustomization.yaml"))


def pod_spec(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def kinds(svc: str) -> list[str]:
    return ["api", "worker", *(["grpc"] if svc in GRPC_SERVICES else [])]


# --------------------------------------------------------------------------- the tree
def test_every_yaml_file_parses():
    assert yaml_files(), "no manifests"
    for path in yaml_files():
        docs = documents(path)
        assert docs, f"{path} is empty"
        for doc in docs:
            assert isinstance(doc, dict), path
            if path.name in KUSTOMIZATION_NAMES or path.name.endswith("-config.yaml"):
                continue
            assert doc.get("apiVersion") and doc.get("kind") and doc.get("metadata", {}).get("name"), path


def test_every_kustomization_references_existing_files():
    assert {p.parent.relative_to(K8S).as_posix() for p in kustomizations()} >= \
        {"base", "overlays/dev", "overlays/prod", "components/network-policies", "components/autoscaling"}
    for path in kustomizations():
        (doc,) = documents(path)
        here = path.parent
        for entry in doc.get("resources", []) + doc.get("components", []):
            target = here / entry
            assert target.exists(), f"{path}: {entry} does not exist"
            if target.is_dir():
                assert any((target / n).exists() for n in KUSTOMIZATION_NAMES), f"{path}: {entry} has no kustomization"
        for entry in doc.get("components", []):
            (component,) = documents(here / entry / "kustomization.yaml")
            assert component["kind"] == "Component", f"{entry} is not a kustomize Component"
        for patch in doc.get("patches", []) + doc.get("patchesStrategicMerge", []):
            patch_path = patch.get("path") if isinstance(patch, dict) else patch
            if patch_path:
                assert (here / patch_path).exists(), f"{path}: patch {patch_path} does not exist"
        for generator in doc.get("configMapGenerator", []) + doc.get("secretGenerator", []):
            for item in generator.get("envs", []) + [f.split("=", 1)[-1] for f in generator.get("files", [])]:
                assert (here / item).exists(), f"{path}: {item} does not exist"


def test_generated_manifests_are_current():
    result = subprocess.run([sys.executable, str(K8S / "generate.py"), "--check"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, f"run `python deploy/k8s/generate.py`:\n{result.stderr}"


def test_no_secret_values_are_committed():
    for path, doc in manifests():
        assert doc["kind"] != "Secret", f"{path}: secrets are created in the cluster, not committed"
    for path in kustomizations():
        assert "secretGenerator" not in documents(path)[0], path


# --------------------------------------------------------------------------- workloads
def test_each_service_has_its_deployments_services_account_and_migration_job():
    deployments, services, jobs = objects("Deployment"), objects("Service"), objects("Job")
    accounts = objects("ServiceAccount")
    for svc in SERVICES:
        for kind in kinds(svc):
            assert f"{svc}-{kind}" in deployments, f"{svc} has no {kind} Deployment"
        assert svc in services and services[svc]["spec"]["ports"][0]["port"] == LAYOUT.http_port(svc)
        assert svc in accounts and accounts[svc]["automountServiceAccountToken"] is False
        job = jobs.get(f"{svc}-migrate")
        assert job, f"{svc} has no migration Job"
        (container,) = pod_spec(job)["containers"]
        assert container["args"] == ["migrate"] and container["image"] == f"taquilla/{svc}"
        assert pod_spec(job)["restartPolicy"] == "Never"
    assert services["inventory-grpc"]["spec"]["ports"][0]["port"] == 50051


def test_every_deployment_has_probes_resources_and_a_hardened_security_context():
    deployments = objects("Deployment")
    assert len(deployments) >= sum(len(kinds(s)) for s in SERVICES)
    for name, deployment in deployments.items():
        spec = pod_spec(deployment)
        assert spec["securityContext"].get("runAsNonRoot") is True, name
        assert spec["securityContext"].get("seccompProfile", {}).get("type") == "RuntimeDefault", name
        for c in spec["containers"]:
            where = f"{name}/{c['name']}"
            assert c.get("livenessProbe") and c.get("readinessProbe"), f"{where} needs both probes"
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c.get("resources", {}).get(bound, {})), f"{where} {bound}"
            sc = c.get("securityContext", {})
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("readOnlyRootFilesystem") is True, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert sc.get("runAsNonRoot", spec["securityContext"].get("runAsNonRoot")) is True, where
            mounts = {m["mountPath"]: m["name"] for m in c.get("volumeMounts", [])}
            volumes = {v["name"]: v for v in spec.get("volumes", [])}
            assert "/tmp" in mounts and "emptyDir" in volumes[mounts["/tmp"]], f"{where} needs an emptyDir /tmp"


def test_service_probes_fit_each_process_kind():
    deployments = objects("Deployment")
    for svc in SERVICES:
        api = pod_spec(deployments[f"{svc}-api"])["containers"][0]
        assert api["livenessProbe"]["httpGet"]["path"] == "/healthz/live"
        assert api["readinessProbe"]["httpGet"]["path"] == "/healthz/ready"
        assert api["ports"][0]["containerPort"] == LAYOUT.http_port(svc)
        worker = pod_spec(deployments[f"{svc}-worker"])["containers"][0]
        for probe in ("livenessProbe", "readinessProbe"):
            assert worker[probe]["exec"]["command"] == ["python", "/opt/taquilla/healthcheck.py", "worker"]
    for svc in GRPC_SERVICES:
        grpc = pod_spec(deployments[f"{svc}-grpc"])["containers"][0]
        assert grpc["args"] == ["grpc"]
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            assert grpc[probe]["grpc"]["port"] == 50051, f"{svc}-grpc {probe} must be a native gRPC probe"


def env_of(svc: str, container: dict) -> dict[str, dict]:
    """Every variable a container gets: its env entries and the ConfigMaps it loads (as values)."""
    env = {e["name"]: e for e in container.get("env", [])}
    for source in container.get("envFrom", []):
        name = source["configMapRef"]["name"]
        path = K8S / ("base/platform.env" if name == "taquilla-platform" else f"base/{svc}/config.env")
        for line in path.read_text().splitlines():
            if line and not line.startswith("#"):
                key, _, value = line.partition("=")
                env[key] = {"name": key, "value": value}
    return env


def test_each_service_gets_every_variable_it_reads_with_secrets_from_the_secret():
    deployments, jobs = objects("Deployment"), objects("Job")
    for svc in SERVICES:
        p = svc.upper() + "_"
        wanted = set(LAYOUT.env(svc))
        owner = f"{p}DB__MIGRATION_URL"
        for kind in kinds(svc):
            env = env_of(svc, pod_spec(deployments[f"{svc}-{kind}"])["containers"][0])
            assert wanted - {owner} <= set(env), f"{svc}-{kind} misses {sorted(wanted - {owner} - set(env))}"
            assert owner not in env, f"{svc}-{kind} must not get the owner role"
        env = env_of(svc, pod_spec(jobs[f"{svc}-migrate"])["containers"][0])
        assert wanted <= set(env), f"{svc}-migrate misses {sorted(wanted - set(env))}"
        for key in (f"{p}DB__URL", owner, f"{p}BROKER__URL", f"{p}AUTH__JWT_SECRET"):
            assert env[key]["valueFrom"]["secretKeyRef"]["name"] == SECRET, f"{key} must come from {SECRET}"
        assert env[f"{p}ENVIRONMENT"]["value"] == "production"
        assert env[f"{p}HTTP__HOST"]["value"] == "0.0.0.0"
    tickets = env_of("tickets", pod_spec(deployments["tickets-api"])["containers"][0])
    assert tickets["TICKETS_SIGNING__MASTER_KEY"]["valueFrom"]["secretKeyRef"]["name"] == SECRET
    gateway = env_of("gateway", pod_spec(deployments["gateway-api"])["containers"][0])
    for upstream in SERVICES[1:]:
        target = urlsplit(gateway[f"GATEWAY_UPSTREAMS__{upstream.upper()}"]["value"])
        assert (target.hostname, target.port) == (upstream, LAYOUT.http_port(upstream))
    orders = env_of("orders", pod_spec(deployments["orders-api"])["containers"][0])
    assert orders["ORDERS_INVENTORY__TARGET"]["value"] == "inventory-grpc:50051"


def test_every_secret_key_referenced_is_documented():
    example = (K8S / "secrets.example.env").read_text()
    documented = {line.split("=", 1)[0] for line in example.splitlines() if line and not line.startswith("#")}
    referenced = set()
    for _, doc in manifests():
        if doc["kind"] in ("Deployment", "Job"):
            for c in pod_spec(doc)["containers"]:
                for e in c.get("env", []):
                    ref = e.get("valueFrom", {}).get("secretKeyRef")
                    if ref:
                        assert ref["name"] == SECRET
                        referenced.add(ref["key"])
    assert referenced and referenced == documented
    assert all(v.count("change-me") for v in (line.split("=", 1)[1] for line in example.splitlines()
                                              if line and not line.startswith("#")))


# --------------------------------------------------------------------------- overlays
def overlay(name: str) -> dict:
    return documents(K8S / "overlays" / name / "kustomization.yaml")[0]


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlays_pin_every_image_to_a_version(name):
    images = {i["name"]: i for i in overlay(name).get("images", [])}
    used = {c["image"] for _, d in manifests() if d["kind"] in ("Deployment", "Job")
            for c in pod_spec(d)["containers"]}
    for image in sorted(used):
        if ":" in image.rsplit("/", 1)[-1] or "@" in image:  # third-party images carry their own tag
            assert not image.endswith(":latest"), image
            continue
        assert image in images, f"overlay {name} does not set a tag for {image}"
        tag = str(images[image].get("newTag", ""))
        assert VERSION_TAG.match(tag) or images[image].get("digest"), f"{name}: {image} tag {tag!r}"
        assert tag != "latest"


def test_prod_runs_more_than_one_of_everything_and_opts_into_every_component():
    prod = overlay("prod")
    assert {Path(c).name for c in prod["components"]} == {"infrastructure", "network-policies", "autoscaling"}
    replicas = {r["name"]: r["count"] for r in prod.get("replicas", [])}
    for svc in SERVICES:
        for kind in kinds(svc):
            assert replicas.get(f"{svc}-{kind}", 0) >= 2, f"{svc}-{kind} runs a single replica in prod"


# --------------------------------------------------------------------------- components
def component_objects(component: str, kind: str) -> list[dict]:
    folder = K8S / "components" / component
    return [d for p in sorted(folder.glob("*.yaml")) if p.name != "kustomization.yaml"
            for d in documents(p) if d.get("kind") == kind]


def test_network_policies_deny_by_default_and_allow_only_the_callers():
    policies = {p["metadata"]["name"]: p["spec"] for p in component_objects("network-policies", "NetworkPolicy")}
    deny = policies["default-deny-all"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert not deny.get("ingress") and not deny.get("egress")
    for svc in SERVICES:
        ingress = policies[f"{svc}-api-ingress"]
        assert ingress["podSelector"]["matchLabels"] == {"app.kubernetes.io/name": svc,
                                                         "app.kubernetes.io/component": "api"}
        sources = [peer for rule in ingress["ingress"] for peer in rule["from"]]
        if svc == "gateway":
            assert any("namespaceSelector" in peer for peer in sources), "the gateway is reachable from ingress"
        else:
            callers = {peer.get("podSelector", {}).get("matchLabels", {}).get("app.kubernetes.io/name")
                       for peer in sources}
            assert callers == {"gateway", "otel-collector"}, f"{svc} api: {callers}"
        for rule in ingress["ingress"]:
            assert [p["port"] for p in rule["ports"]] == [LAYOUT.http_port(svc)]
    grpc = policies["inventory-grpc-ingress"]
    (rule,) = grpc["ingress"]
    assert [p["podSelector"]["matchLabels"]["app.kubernetes.io/name"] for p in rule["from"]] == ["orders"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 50051}]
    egress = policies["services-to-infrastructure"]["egress"]
    assert {p["port"] for rule in egress for p in rule["ports"]} >= {5432, 5672, 6379, 4318}
    gateway_out = {p["port"] for rule in policies["gateway-egress"]["egress"] for p in rule["ports"]}
    assert gateway_out == {LAYOUT.http_port(s) for s in SERVICES[1:]}
    assert any(p["port"] == 50051 for rule in policies["orders-egress"]["egress"] for p in rule["ports"])
    for name, spec in policies.items():  # nothing in the namespace may open itself to everyone
        for rule in spec.get("ingress", []):
            assert rule.get("from"), f"{name} admits traffic from anywhere"


def test_autoscalers_and_disruption_budgets_target_real_deployments():
    deployments = objects("Deployment")
    hpas = component_objects("autoscaling", "HorizontalPodAutoscaler")
    pdbs = component_objects("autoscaling", "PodDisruptionBudget")
    expected = {f"{svc}-{kind}" for svc in SERVICES for kind in kinds(svc)}
    assert {h["spec"]["scaleTargetRef"]["name"] for h in hpas} == expected
    for h in hpas:
        assert h["spec"]["minReplicas"] >= 2 and h["spec"]["maxReplicas"] > h["spec"]["minReplicas"]
    for pdb in pdbs:
        selected = pdb["spec"]["selector"]["matchLabels"]
        assert any(d["spec"]["selector"]["matchLabels"] == selected for d in deployments.values()), selected
    assert len(pdbs) == len(expected)


def test_infrastructure_comes_from_the_operators():
    (rabbit,) = component_objects("infrastructure", "RabbitmqCluster")
    assert rabbit["apiVersion"] == "rabbitmq.com/v1beta1"
    assert rabbit["spec"]["replicas"] == 3
    assert rabbit["spec"]["image"].startswith("rabbitmq:3.10")
    (cluster,) = component_objects("infrastructure", "Cluster")
    assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
    assert cluster["spec"]["instances"] >= 3
    assert ":15" in cluster["spec"]["imageName"]
    bootstrap = cluster["spec"]["bootstrap"]["initdb"]
    databases = {d["spec"]["name"]: d for d in component_objects("infrastructure", "Database")}
    assert {bootstrap["database"], *databases} == {LAYOUT.database(s) for s in SERVICES}
    assert {bootstrap["owner"], *(d["spec"]["owner"] for d in databases.values())} == {LAYOUT.db_owner}
    assert all(d["spec"]["cluster"]["name"] == cluster["metadata"]["name"] for d in databases.values())
    roles = {r["name"] for r in cluster["spec"]["managed"]["roles"]}
    assert LAYOUT.db_app_role in roles


# --------------------------------------------------------------------------- rendered
def kubectl() -> str:
    found = shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl (with its built-in kustomize) is needed to render the manifests: ./taquilla test installs it "
                    "where the package is available; install it and run again")
    return found


@cache
def rendered(target: str) -> list[dict]:
    result = subprocess.run([kubectl(), "kustomize", str(K8S / target)], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, f"kustomize build {target} failed:\n{result.stderr}"
    return [d for d in yaml.safe_load_all(result.stdout) if d]


@pytest.mark.parametrize("target", ["base", *(f"overlays/{o}" for o in OVERLAYS)])
def test_kustomize_renders(target):
    docs = rendered(target)
    names = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert ("Namespace", "taquilla") in names
    for d in docs:
        if d["kind"] != "Namespace":
            assert d["metadata"].get("namespace") == "taquilla", f"{d['kind']}/{d['metadata']['name']}"
    configmaps = {d["metadata"]["name"] for d in docs if d["kind"] == "ConfigMap"}
    for d in docs:
        if d["kind"] in ("Deployment", "Job"):
            for c in pod_spec(d)["containers"]:
                for source in c.get("envFrom", []):
                    assert source["configMapRef"]["name"] in configmaps, f"{d['metadata']['name']}: {source}"


@pytest.mark.parametrize("name", OVERLAYS)
def test_rendered_overlays_run_versioned_images_only(name):
    for d in rendered(f"overlays/{name}"):
        if d["kind"] in ("Deployment", "Job"):
            for c in pod_spec(d)["containers"]:
                image = c["image"]
                tag = image.rsplit("/", 1)[-1].partition(":")[2]
                assert tag and tag != "latest", f"{name}: {d['metadata']['name']} runs {image}"
        if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("taquilla-platform"):
            environment = "development" if name == "dev" else "production"
            assert all(d["data"][f"{s.upper()}_ENVIRONMENT"] == environment for s in SERVICES)
