"""JSON schemas for the operators' custom resources we render, for offline validation.

kubernetes-validate knows the built-in kinds only. For the operators' kinds these schemas are the
part of each CRD's openAPIV3Schema that our manifests use, transcribed from the operators' CRDs
(CloudNativePG 1.25 `config/crd/bases/postgresql.cnpg.io_{clusters,databases}.yaml`, RabbitMQ
Cluster Operator 2.x `config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml`):

- `spec` lists every top-level field the CRD has, and rejects any other (a typo fails);
- the fields we set are typed down to their leaves, strict (additionalProperties: false) wherever
  the CRD is, with the CRD's enums and required fields;
- Kubernetes types embedded in a CRD (resources, object metadata) refer to kubernetes-validate's
  own strict definitions of the pinned Kubernetes version;
- fields we do not set are accepted with any value (`{}`): to set one, describe it here first.
"""
from __future__ import annotations

K8S_DEFS = "https://kubernetes.io/api/_definitions.json#/$defs/"
ANY: dict = {}


def ref(name: str) -> dict:
    return {"$ref": K8S_DEFS + name}


def strict(properties: dict, required: tuple[str, ...] = ()) -> dict:
    out = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


def top_level(fields: str, typed: dict) -> dict:
    """Every field of a CRD's spec (space-separated), with `typed` describing those we use."""
    names = fields.split()
    missing = set(typed) - set(names)
    assert not missing, f"typed fields not in the CRD's field list: {missing}"
    return strict({name: typed.get(name, ANY) for name in names})


def resource(api_version: str, kind: str, spec: dict) -> dict:
    return {
        "$id": f"https://taquilla.invalid/crd/{api_version}/{kind}.json",
        "type": "object",
        "properties": {
            "apiVersion": {"const": api_version},
            "kind": {"const": kind},
            "metadata": ref("io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"),
            "spec": spec,
        },
        "required": ["apiVersion", "kind", "metadata", "spec"],
        "additionalProperties": False,
    }


SECRET_REF = strict({"name": {"type": "string"}}, ("name",))
ENSURE = {"type": "string", "enum": ["present", "absent"]}

CNPG_CLUSTER = resource("postgresql.cnpg.io/v1", "Cluster", top_level(
    "affinity backup bootstrap certificates description enablePDB enableSuperuserAccess env envFrom "
    "ephemeralVolumeSource ephemeralVolumesSizeLimit externalClusters failoverDelay imageCatalogRef imageName "
    "imagePullPolicy imagePullSecrets inheritedMetadata instances livenessProbeTimeout logLevel managed "
    "maxSyncReplicas minSyncReplicas monitoring nodeMaintenanceWindow plugins postgresGID postgresUID postgresql "
    "primaryUpdateMethod primaryUpdateStrategy priorityClassName probes projectedVolumeTemplate replica "
    "replicationSlots resources schedulerName seccompProfile serviceAccountTemplate smartShutdownTimeout "
    "startDelay stopDelay storage superuserSecret switchoverDelay tablespaces topologySpreadConstraints "
    "walStorage",
    {
        "instances": {"type": "integer", "minimum": 1},
        "imageName": {"type": "string"},
        "primaryUpdateStrategy": {"type": "string", "enum": ["unsupervised", "supervised"]},
        "enableSuperuserAccess": {"type": "boolean"},
        "storage": {"type": "object", "properties": {
            "size": {"type": "string"}, "storageClass": {"type": "string"},
            "resizeInUseVolumes": {"type": "boolean"}, "pvcTemplate": ANY}, "additionalProperties": False},
        "resources": ref("io.k8s.api.core.v1.ResourceRequirements"),
        "postgresql": {"type": "object", "properties": {
            "parameters": {"type": "object", "additionalProperties": {"type": "string"}}}},
        "bootstrap": strict({
            "initdb": {"type": "object", "properties": {
                "database": {"type": "string"}, "owner": {"type": "string"}, "secret": SECRET_REF}},
            "pg_basebackup": ANY, "recovery": ANY}),
        "managed": {"type": "object", "properties": {"roles": {"type": "array", "items": {
            "type": "object",
            "properties": {"name": {"type": "string"}, "ensure": ENSURE, "login": {"type": "boolean"},
                           "comment": {"type": "string"}, "passwordSecret": SECRET_REF,
                           "superuser": {"type": "boolean"}, "createdb": {"type": "boolean"},
                           "createrole": {"type": "boolean"}, "inherit": {"type": "boolean"},
                           "replication": {"type": "boolean"}, "bypassrls": {"type": "boolean"},
                           "connectionLimit": {"type": "integer"}, "validUntil": {"type": "string"},
                           "inRoles": {"type": "array", "items": {"type": "string"}},
                           "disablePassword": {"type": "boolean"}},
            "required": ["name"], "additionalProperties": False}}}},
    }))

CNPG_DATABASE = resource("postgresql.cnpg.io/v1", "Database", {
    **top_level(
        "allowConnections builtinLocale cluster collationVersion connectionLimit databaseReclaimPolicy encoding "
        "ensure extensions fdws icuLocale icuRules isTemplate locale localeCType localeCollate localeProvider "
        "name owner schemas servers tablespace template",
        {
            "cluster": strict({"name": {"type": "string"}}),
            "databaseReclaimPolicy": {"type": "string", "enum": ["delete", "retain"]},
            "ensure": ENSURE,
            "name": {"type": "string", "not": {"enum": ["postgres", "template0", "template1"]}},
            "owner": {"type": "string"},
        }),
    "required": ["cluster", "name", "owner"],
})

RABBITMQ_CLUSTER = resource("rabbitmq.com/v1beta1", "RabbitmqCluster", top_level(
    "affinity autoEnableAllFeatureFlags delayStartSeconds image imagePullSecrets override persistence rabbitmq "
    "replicas resources secretBackend service skipPostDeploySteps terminationGracePeriodSeconds tls tolerations",
    {
        "replicas": {"type": "integer", "minimum": 0},
        "image": {"type": "string"},
        "resources": ref("io.k8s.api.core.v1.ResourceRequirements"),
        "persistence": strict({"storage": {"type": ["string", "integer"]}, "storageClassName": {"type": "string"}}),
        "rabbitmq": strict({
            "additionalConfig": {"type": "string", "maxLength": 2000},
            "additionalPlugins": {"type": "array", "maxItems": 100, "items": {"type": "string"}},
            "advancedConfig": {"type": "string", "maxLength": 100000},
            "envConfig": {"type": "string", "maxLength": 100000},
            "erlangInetConfig": {"type": "string", "maxLength": 2000}}),
    }))

SCHEMAS: dict[tuple[str, str], dict] = {
    ("postgresql.cnpg.io/v1", "Cluster"): CNPG_CLUSTER,
    ("postgresql.cnpg.io/v1", "Database"): CNPG_DATABASE,
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): RABBITMQ_CLUSTER,
}
