"""What a cluster would receive: base, dev and prod rendered by `kubectl kustomize`, validated strictly
against a fixed Kubernetes version, then held to the platform's policies.

Built-in kinds are validated by kubernetes-validate (strict: unknown fields are errors) at
KUBERNETES_VERSION, the oldest version the manifests support (native gRPC probes need 1.27; we pin
the version CI validates against). The operators' kinds (CloudNativePG Cluster and Database,
RabbitmqCluster) are validated against crd_schemas.py: the part of each operator's CRD schema that
we use, strict, with Kubernetes types taken from the same pinned version. No object goes unchecked:
a kind with neither schema fails the test.
"""
from __future__ import annotations

import copy
import json
from functools import cache

import jsonschema
import kubernetes_validate
import pytest
import referencing
from crd_schemas import SCHEMAS
from deploy_facts import GRPC_SERVICES, OVERLAYS, SERVICES, TARGETS, rendered
from kubernetes_validate.utils import SchemaNotFoundError
from kubernetes_validate.utils import ValidationError as K8sValidationError

KUBERNETES_VERSION = "1.30.0"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob")


@pytest.fixture(scope="module", autouse=True)
def _schemas_read_once():
    """kubernetes-validate re-reads its JSON schemas (megabytes) for every object: read each once."""
    import kubernetes_validate.utils as utils

    original = utils.schema_contents
    utils.schema_contents = cache(original)
    yield
    utils.schema_contents = original


@cache
def crd_validator(api_version: str, kind: str) -> jsonschema.Validator:
    from importlib.resources import files

    folder = files("kubernetes_validate") / "kubernetes-json-schema" / f"v{KUBERNETES_VERSION}-local-strict"
    definitions = json.loads((folder / "_definitions.json").read_text())
    registry = referencing.Registry().with_resource(
        definitions["$id"], referencing.Resource.from_contents(definitions,
                                                               default_specification=referencing.jsonschema.DRAFT202012))
    schema = SCHEMAS[(api_version, kind)]
    return jsonschema.Draft202012Validator(schema, registry=registry)


def validation_errors(doc: dict) -> list[str]:
    where = f"{doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key in SCHEMAS:
        return [f"{where}: {'.'.join(map(str, e.path))}: {e.message}"
                for e in crd_validator(*key).iter_errors(doc)]
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except K8sValidationError as e:
        return [f"{where}: {'.'.join(map(str, e.path))}: {e.message}"]
    except SchemaNotFoundError as e:
        return [f"{where}: no schema to validate it ({e.message}); add the CRD's schema to crd_schemas.py"]
    return []


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in docs if d["kind"] == kind}


def pod_template(doc: dict) -> dict:
    if doc["kind"] == "CronJob":
        return doc["spec"]["jobTemplate"]["spec"]["template"]
    return doc["spec"]["template"]


def containers(doc: dict) -> list[dict]:
    spec = pod_template(doc)["spec"]
    return spec.get("initContainers", []) + spec["containers"]


def service_workloads() -> set[str]:
    return {f"{svc}-{kind}" for svc in SERVICES for kind in ("api", "worker", *(["grpc"] if svc in GRPC_SERVICES
                                                                                else []))}


# --------------------------------------------------------------------------- schema validation
@pytest.mark.parametrize("target", TARGETS)
def test_every_rendered_object_is_valid_for_the_pinned_kubernetes(target):
    docs = rendered(target)
    assert docs
    errors = [error for doc in docs for error in validation_errors(doc)]
    assert not errors, f"{target} ({len(errors)} errors):\n" + "\n".join(errors)


def test_validation_is_strict_for_built_in_and_operator_kinds():
    """The checks above would catch a typo: an unknown field, a wrong type, a reserved name."""
    docs = rendered("overlays/prod")
    deployment = copy.deepcopy(by_kind(docs, "Deployment")["orders-api"])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinessprobe"] = {}
    assert validation_errors(deployment), "an unknown Deployment field passed"
    rabbit = copy.deepcopy(next(iter(by_kind(docs, "RabbitmqCluster").values())))
    rabbit["spec"]["replica"] = 3
    assert validation_errors(rabbit), "a misspelt RabbitmqCluster field passed"
    rabbit = copy.deepcopy(next(iter(by_kind(docs, "RabbitmqCluster").values())))
    rabbit["spec"]["resources"]["limit"] = {"cpu": "1"}
    assert validation_errors(rabbit), "an invalid ResourceRequirements inside a CRD passed"
    cluster = copy.deepcopy(next(iter(by_kind(docs, "Cluster").values())))
    cluster["spec"]["instances"] = "3"
    assert validation_errors(cluster), "a string where the Cluster wants an integer passed"
    database = copy.deepcopy(next(iter(by_kind(docs, "Database").values())))
    database["spec"]["name"] = "postgres"
    assert validation_errors(database), "a reserved database name passed"
    unknown = {"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}
    assert validation_errors(unknown), "an object of an unknown kind went unchecked"


def test_operator_kinds_are_held_to_their_crds_below_the_top_level():
    """What crd_schemas.py transcribes beyond the field lists: required fields, the CRDs' CEL rules
    JSON schema can say, strict nested objects, patterns."""
    docs = rendered("overlays/prod")
    cluster = next(iter(by_kind(docs, "Cluster").values()))
    mutations = {
        "a Cluster without instances (required by the CRD)": lambda c: c["spec"].pop("instances"),
        "a Cluster with both imageName and imageCatalogRef": lambda c: c["spec"].update(
            imageCatalogRef={"apiGroup": "postgresql.cnpg.io", "kind": "ImageCatalog", "name": "pg", "major": 15}),
        "a misspelt bootstrap.initdb field": lambda c: c["spec"]["bootstrap"]["initdb"].update(databse="x"),
        "a misspelt postgresql field": lambda c: c["spec"]["postgresql"].update(paramters={}),
        "a misspelt managed field": lambda c: c["spec"]["managed"].update(role=[]),
        "a managed role without a name": lambda c: c["spec"]["managed"]["roles"][0].pop("name"),
        "an unknown primaryUpdateStrategy": lambda c: c["spec"].update(primaryUpdateStrategy="manual"),
    }
    for what, mutate in mutations.items():
        doc = copy.deepcopy(cluster)
        mutate(doc)
        assert validation_errors(doc), f"{what} passed"
    database = next(iter(by_kind(docs, "Database").values()))
    doc = copy.deepcopy(database)
    doc["spec"].pop("owner")
    assert validation_errors(doc), "a Database without an owner (required by the CRD) passed"
    rabbit = next(iter(by_kind(docs, "RabbitmqCluster").values()))
    doc = copy.deepcopy(rabbit)
    doc["spec"]["persistence"]["storage"] = "10 gigabytes"
    assert validation_errors(doc), "a persistence.storage that is no quantity passed"
    doc = copy.deepcopy(rabbit)
    doc["spec"]["rabbitmq"]["additionalPlugins"] = ["rabbitmq-shovel"]
    assert validation_errors(doc), "a plugin name outside the CRD's pattern passed"


def untyped_fields(value, schema: dict, path: str) -> list[str]:
    """The paths in `value` whose schema accepts anything: fields set without being described."""
    if not schema:
        return [path]
    if isinstance(value, dict) and "$ref" not in schema:
        found = []
        for key, item in value.items():
            if key in schema.get("properties", {}):
                found += untyped_fields(item, schema["properties"][key], f"{path}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                found += untyped_fields(item, schema["additionalProperties"], f"{path}.{key}")
            elif schema.get("additionalProperties") is not False:
                found.append(f"{path}.{key}")  # an open object: anything goes there
        return found
    if isinstance(value, list) and "$ref" not in schema:
        return [p for i, item in enumerate(value) for p in untyped_fields(item, schema.get("items", {}), f"{path}[{i}]")]
    return []


@pytest.mark.parametrize("target", TARGETS)
def test_every_field_the_manifests_set_in_an_operator_kind_is_typed(target):
    """crd_schemas.py accepts anything in the CRD fields we do not use: setting one must come with
    its transcription, or a wrong value there would pass unseen."""
    for doc in rendered(target):
        key = (doc.get("apiVersion"), doc.get("kind"))
        if key in SCHEMAS:
            where = f"{doc['kind']}/{doc['metadata']['name']}"
            assert not untyped_fields(doc, SCHEMAS[key], where), \
                f"{target}: set but not typed in crd_schemas.py: {untyped_fields(doc, SCHEMAS[key], where)}"


def test_untyped_fields_finds_a_field_set_without_its_schema():
    cluster = copy.deepcopy(next(iter(by_kind(rendered("overlays/prod"), "Cluster").values())))
    cluster["spec"]["backup"] = {"retentionPolicy": "30d"}
    cluster["spec"]["bootstrap"]["initdb"]["dataChecksums"] = True
    assert untyped_fields(cluster, SCHEMAS[("postgresql.cnpg.io/v1", "Cluster")], "c") == \
        ["c.spec.bootstrap.initdb.dataChecksums", "c.spec.backup"]


# --------------------------------------------------------------------------- policies
@pytest.mark.parametrize("target", TARGETS)
def test_every_container_has_limits_and_runs_hardened(target):
    for doc in rendered(target):
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        pod = pod_template(doc)["spec"]
        for c in containers(doc):
            where = f"{target}: {doc['kind']}/{doc['metadata']['name']}/{c['name']}"
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(c.get("resources", {}).get(bound, {})), f"{where} lacks {bound}"
            sc = c.get("securityContext", {})
            assert sc.get("runAsNonRoot", pod.get("securityContext", {}).get("runAsNonRoot")) is True, \
                f"{where} may run as root"
            assert sc.get("readOnlyRootFilesystem") is True, f"{where} writes its root filesystem"
            assert sc.get("allowPrivilegeEscalation") is False, where
            assert sc.get("capabilities", {}).get("drop") == ["ALL"], where
            assert not sc.get("privileged"), where


@pytest.mark.parametrize("name", OVERLAYS)
def test_no_image_floats(name):
    for doc in rendered(f"overlays/{name}"):
        if doc["kind"] not in WORKLOAD_KINDS:
            continue
        for c in containers(doc):
            image = c["image"]
            reference = image.rsplit("/", 1)[-1]
            tag = reference.partition(":")[2]
            assert "@sha256:" in image or (tag and tag != "latest"), \
                f"{name}: {doc['metadata']['name']} runs {image} (pin a version or a digest)"
    for doc in rendered(f"overlays/{name}"):
        for key in ("image", "imageName"):
            value = doc.get("spec", {}).get(key)
            if value:
                assert ":" in value.rsplit("/", 1)[-1] and not value.endswith(":latest"), f"{name}: {value}"


@pytest.mark.parametrize("target", TARGETS)
def test_every_long_running_container_has_liveness_and_readiness_probes(target):
    for doc in rendered(target):
        if doc["kind"] != "Deployment":
            continue
        for c in pod_template(doc)["spec"]["containers"]:
            assert c.get("livenessProbe") and c.get("readinessProbe"), \
                f"{target}: {doc['metadata']['name']}/{c['name']} needs liveness and readiness probes"
    inventory = by_kind(rendered(target), "Deployment")["inventory-grpc"]
    (grpc,) = pod_template(inventory)["spec"]["containers"]
    assert grpc["readinessProbe"].get("grpc") and grpc["livenessProbe"].get("grpc"), "native gRPC probes"


def selects(selector: dict, labels: dict) -> bool:
    return all(labels.get(k) == v for k, v in selector.get("matchLabels", {}).items())


def test_prod_has_a_disruption_budget_and_an_autoscaler_for_every_service_deployment():
    docs = rendered("overlays/prod")
    deployments = by_kind(docs, "Deployment")
    pdbs = list(by_kind(docs, "PodDisruptionBudget").values())
    hpas = {h["spec"]["scaleTargetRef"]["name"]: h for h in by_kind(docs, "HorizontalPodAutoscaler").values()}
    for name in sorted(service_workloads()):
        labels = pod_template(deployments[name])["metadata"]["labels"]
        budgets = [p for p in pdbs if selects(p["spec"]["selector"], labels)]
        assert budgets, f"{name} has no PodDisruptionBudget"
        assert all(p["spec"].get("maxUnavailable") == 1 or p["spec"].get("minAvailable") for p in budgets)
        assert name in hpas and hpas[name]["spec"]["minReplicas"] >= 2, f"{name} has no autoscaler from 2"
        assert deployments[name]["spec"]["replicas"] >= 2, f"{name} starts with one replica in prod"


@pytest.mark.parametrize("name", OVERLAYS)
def test_network_policies_deny_by_default_and_cover_every_pod(name):
    docs = rendered(f"overlays/{name}")
    policies = list(by_kind(docs, "NetworkPolicy").values())
    deny = [p for p in policies if p["spec"]["podSelector"] == {} and not p["spec"].get("ingress")
            and not p["spec"].get("egress") and set(p["spec"]["policyTypes"]) == {"Ingress", "Egress"}]
    assert deny, f"{name}: no default-deny policy"
    for doc in docs:
        if doc["kind"] != "Deployment":
            continue
        labels = pod_template(doc)["metadata"]["labels"]
        allowing = [p for p in policies if p["spec"]["podSelector"] != {} and selects(p["spec"]["podSelector"], labels)]
        assert allowing, f"{name}: {doc['metadata']['name']} is only under default deny (unreachable, mute)"
    ingress_to_gateway = [p for p in policies for rule in p["spec"].get("ingress", [])
                          for peer in rule.get("from", []) if "namespaceSelector" in peer
                          and peer["namespaceSelector"].get("matchLabels", {}).get("kubernetes.io/metadata.name")
                          == "ingress-nginx"]
    assert {p["metadata"]["name"] for p in ingress_to_gateway} == {"gateway-api-ingress"}, \
        "only the gateway is reachable from the ingress controller"


@pytest.mark.parametrize("target", TARGETS)
def test_the_gateway_ingress_serves_every_host_over_tls(target):
    docs = rendered(target)
    ingress = by_kind(docs, "Ingress")["gateway"]
    hosts = {rule["host"] for rule in ingress["spec"]["rules"]}
    tls_hosts = {h for entry in ingress["spec"].get("tls", []) for h in entry["hosts"]}
    assert hosts and hosts <= tls_hosts, f"{target}: hosts without TLS: {hosts - tls_hosts}"
    assert all(entry.get("secretName") for entry in ingress["spec"]["tls"])
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/force-ssl-redirect"] == "true"
    backends = {p["backend"]["service"]["name"] for rule in ingress["spec"]["rules"]
                for p in rule["http"]["paths"]}
    assert backends == {"gateway"} and "gateway" in by_kind(docs, "Service")
    if target == "overlays/prod":
        assert ingress["metadata"]["annotations"].get("cert-manager.io/cluster-issuer"), "prod certificates"


@pytest.mark.parametrize("target", TARGETS)
def test_every_service_object_selects_pods_that_exist(target):
    docs = rendered(target)
    pods = [pod_template(d)["metadata"]["labels"] for d in docs if d["kind"] in ("Deployment", "StatefulSet")]
    for name, service in by_kind(docs, "Service").items():
        assert any(selects({"matchLabels": service["spec"]["selector"]}, labels) for labels in pods), \
            f"{target}: Service {name} selects no pod"


def test_prod_infrastructure_is_highly_available_and_complete():
    docs = rendered("overlays/prod")
    (rabbit,) = by_kind(docs, "RabbitmqCluster").values()
    assert rabbit["spec"]["replicas"] == 3, "quorum queues need three RabbitMQ nodes"
    (cluster,) = by_kind(docs, "Cluster").values()
    assert cluster["spec"]["instances"] >= 3, "a primary and two standbys"
    assert "redis" in by_kind(docs, "Deployment") and "redis" in by_kind(docs, "Service")
    collector = by_kind(docs, "Deployment")["otel-collector"]
    config_name = next(v["configMap"]["name"] for v in pod_template(collector)["spec"]["volumes"] if "configMap" in v)
    import yaml

    config = yaml.safe_load(by_kind(docs, "ConfigMap")[config_name]["data"]["config.yaml"])
    traces = config["service"]["pipelines"]["traces"]
    assert "otlp" in traces["receivers"]
    assert any(e.split("/")[0] in ("otlp", "otlphttp") for e in traces["exporters"]), "traces leave over OTLP"
    for pipeline in config["service"]["pipelines"].values():
        for section in ("receivers", "processors", "exporters"):
            assert set(pipeline.get(section, [])) <= set(config[section]), f"undefined {section} in a pipeline"
    platform = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("taquilla-platform"))
    assert platform["data"]["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://otel-collector:4318"


def test_dev_runs_small_but_complete():
    docs = rendered("overlays/dev")
    (rabbit,) = by_kind(docs, "RabbitmqCluster").values()
    (cluster,) = by_kind(docs, "Cluster").values()
    assert rabbit["spec"]["replicas"] == 1 and cluster["spec"]["instances"] == 1
    assert service_workloads() <= set(by_kind(docs, "Deployment"))
    assert {f"{svc}-migrate" for svc in SERVICES} <= set(by_kind(docs, "Job"))
