"""JSON schemas for the operators' custom resources we render, for offline validation.

kubernetes-validate knows the built-in kinds only. For the operators' kinds these schemas are the
part of each CRD's openAPIV3Schema that our manifests use, transcribed by hand (not copied) from one
named release of each operator, checked field by field against it on 2026-11-21:

- CloudNativePG **1.25.0**, the oldest release the deployment supports (deploy/README.md: "1.25 or
  later, for Database resources"), so that whatever passes here exists in every supported release:
  the `clusters.postgresql.cnpg.io` and `databases.postgresql.cnpg.io` CRDs of the release manifest
  `releases/cnpg-1.25.0.yaml` in github.com/cloudnative-pg/cloudnative-pg (commit
  3a1809f924a3fa5332cf08ec4dc37b707d8a0e20; it bundles `config/crd/bases/postgresql.cnpg.io_
  {clusters,databases}.yaml` as released, controller-gen v0.16.5). Later versions add fields
  (the Database's `extensions`, `fdws` and `schemas`, as on the main branch at commit 02a1a3bd):
  they are unknown here until we raise the supported minimum.
- RabbitMQ Cluster Operator **v2.9.0**: `config/crd/bases/rabbitmq.com_rabbitmqclusters.yaml` at
  tag v2.9.0 of github.com/rabbitmq/cluster-operator (controller-gen v0.14.0), read from its
  verbatim copy in github.com/bitnami/charts (`bitnami/rabbitmq-cluster-operator/crds/
  rabbitmq-cluster/rabbitmq.com_rabbitmqclusters.yaml` at commit
  8e7e31b43268c2b2ffc86586be55a259f2a1babc, headed "Version: 2.9.0"), the operator's own
  repository being available to us only at untagged commits. `autoEnableAllFeatureFlags` (later
  releases) is not a field of 2.9.0, nor here.

How the schemas follow the CRDs:
- `spec` lists every top-level field of the CRD and rejects any other (a typo fails); so does each
  object we set fields in (bootstrap, initdb, postgresql, managed, storage, persistence, ...);
- the fields we set are typed down to their leaves, with the CRD's types, enums, bounds, patterns
  and required fields (and its CEL rules, where JSON schema can say them: reserved database names,
  imageName xor imageCatalogRef);
- Kubernetes types embedded in a CRD (resources, object metadata) refer to kubernetes-validate's
  own strict definitions of the pinned Kubernetes version;
- fields we do not set are accepted with any value (`{}`): to set one, describe it here first
  (test_k8s_rendered checks that every field the manifests set is typed).
"""
from __future__ import annotations

K8S_DEFS = "https://kubernetes.io/api/_definitions.json#/$defs/"
ANY: dict = {}
# resource.Quantity, as the CRDs spell it for int-or-string quantities
QUANTITY = (r"^(\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]"
            r"|([eE](\+|-)?(([0-9]+(\.[0-9]*)?)|(\.[0-9]+))))?$")
INT_OR_QUANTITY = {"anyOf": [{"type": "integer"}, {"type": "string", "pattern": QUANTITY}]}
STRING = {"type": "string"}
BOOLEAN = {"type": "boolean"}


def ref(name: str) -> dict:
    return {"$ref": K8S_DEFS + name}


def fields(names: str, typed: dict, required: tuple[str, ...] = ()) -> dict:
    """An object with exactly the CRD's properties `names` (space-separated), `typed` describing
    those we use (the others accept anything), and the CRD's required properties."""
    listed = names.split()
    assert listed == sorted(listed), "list the CRD's fields in its (alphabetical) order"
    unknown = (set(typed) | set(required)) - set(listed)
    assert not unknown, f"fields not in the CRD's field list: {unknown}"
    out = {"type": "object", "properties": {name: typed.get(name, ANY) for name in listed},
           "additionalProperties": False}
    if required:
        out["required"] = list(required)
    return out


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


LOCAL_OBJECT_REFERENCE = fields("name", {"name": STRING}, ("name",))  # CNPG's LocalObjectReference
ENSURE = {"type": "string", "enum": ["present", "absent"]}

# ------------------------------------------------------------------ CloudNativePG 1.25.0
CNPG_ROLE = fields(
    "bypassrls comment connectionLimit createdb createrole disablePassword ensure inRoles inherit login name "
    "passwordSecret replication superuser validUntil",
    {"bypassrls": BOOLEAN, "comment": STRING, "connectionLimit": {"type": "integer"}, "createdb": BOOLEAN,
     "createrole": BOOLEAN, "disablePassword": BOOLEAN, "ensure": ENSURE,
     "inRoles": {"type": "array", "items": STRING}, "inherit": BOOLEAN, "login": BOOLEAN, "name": STRING,
     "passwordSecret": LOCAL_OBJECT_REFERENCE, "replication": BOOLEAN, "superuser": BOOLEAN,
     "validUntil": {"type": "string", "format": "date-time"}},  # format: not asserted offline
    ("name",))

CNPG_CLUSTER_SPEC = fields(
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
        "imageName": STRING,
        "primaryUpdateStrategy": {"type": "string", "enum": ["unsupervised", "supervised"]},
        "enableSuperuserAccess": BOOLEAN,
        "storage": fields("pvcTemplate resizeInUseVolumes size storageClass",
                          {"resizeInUseVolumes": BOOLEAN, "size": STRING, "storageClass": STRING}),
        "resources": ref("io.k8s.api.core.v1.ResourceRequirements"),
        "postgresql": fields(
            "enableAlterSystem ldap parameters pg_hba pg_ident promotionTimeout shared_preload_libraries "
            "syncReplicaElectionConstraint synchronous",
            {"parameters": {"type": "object", "additionalProperties": STRING}}),
        "bootstrap": fields("initdb pg_basebackup recovery", {"initdb": fields(
            "builtinLocale dataChecksums database encoding icuLocale icuRules import locale localeCType "
            "localeCollate localeProvider options owner postInitApplicationSQL postInitApplicationSQLRefs "
            "postInitSQL postInitSQLRefs postInitTemplateSQL postInitTemplateSQLRefs secret walSegmentSize",
            {"database": STRING, "owner": STRING, "secret": LOCAL_OBJECT_REFERENCE})}),
        "managed": fields("roles services", {"roles": {"type": "array", "items": CNPG_ROLE}}),
    },
    ("instances",))
# CEL rule of the spec: "imageName and imageCatalogRef are mutually exclusive"
CNPG_CLUSTER_SPEC["not"] = {"required": ["imageCatalogRef", "imageName"]}
CNPG_CLUSTER = resource("postgresql.cnpg.io/v1", "Cluster", CNPG_CLUSTER_SPEC)

CNPG_DATABASE = resource("postgresql.cnpg.io/v1", "Database", fields(
    "allowConnections builtinLocale cluster collationVersion connectionLimit databaseReclaimPolicy encoding "
    "ensure icuLocale icuRules isTemplate locale localeCType localeCollate localeProvider name owner "
    "tablespace template",
    {
        # core/v1 LocalObjectReference: `name` defaults to "" and is not required
        "cluster": fields("name", {"name": STRING}),
        "databaseReclaimPolicy": {"type": "string", "enum": ["delete", "retain"]},
        "ensure": ENSURE,
        # CEL rules: "the name postgres/template0/template1 is reserved"
        "name": {"type": "string", "not": {"enum": ["postgres", "template0", "template1"]}},
        "owner": STRING,
    },
    ("cluster", "name", "owner")))

# ------------------------------------------------------------------ RabbitMQ Cluster Operator v2.9.0
RABBITMQ_CLUSTER = resource("rabbitmq.com/v1beta1", "RabbitmqCluster", fields(
    "affinity delayStartSeconds image imagePullSecrets override persistence rabbitmq replicas resources "
    "secretBackend service skipPostDeploySteps terminationGracePeriodSeconds tls tolerations",
    {
        "replicas": {"type": "integer", "minimum": 0},
        "image": STRING,
        "resources": ref("io.k8s.api.core.v1.ResourceRequirements"),
        "persistence": fields("storage storageClassName", {"storage": INT_OR_QUANTITY, "storageClassName": STRING}),
        "rabbitmq": fields(
            "additionalConfig additionalPlugins advancedConfig envConfig erlangInetConfig",
            {"additionalConfig": {"type": "string", "maxLength": 2000},
             "additionalPlugins": {"type": "array", "maxItems": 100,
                                   "items": {"type": "string", "maxLength": 100, "pattern": r"^\w+$"}},
             "advancedConfig": {"type": "string", "maxLength": 100000},
             "envConfig": {"type": "string", "maxLength": 100000},
             "erlangInetConfig": {"type": "string", "maxLength": 2000}}),
    }))

SCHEMAS: dict[tuple[str, str], dict] = {
    ("postgresql.cnpg.io/v1", "Cluster"): CNPG_CLUSTER,
    ("postgresql.cnpg.io/v1", "Database"): CNPG_DATABASE,
    ("rabbitmq.com/v1beta1", "RabbitmqCluster"): RABBITMQ_CLUSTER,
}
