"""What the deployment tests share: where things are and what the platform's services are.

The service list, ports and environment come from tools/devtools' services.py (loaded by path, it
is stdlib-only), the same source local runs and deploy/k8s/generate.py use.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "deploy/docker/service.Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
HEALTHCHECK = ROOT / "deploy/docker/healthcheck.py"
K8S = ROOT / "deploy/k8s"


def _load_services():
    path = ROOT / "tools/devtools/src/taquilla_devtools/services.py"
    spec = importlib.util.spec_from_file_location("_deploy_facts_services", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


SERVICES_MODULE = _load_services()
SERVICES: tuple[str, ...] = tuple(SERVICES_MODULE.SERVICES)
LAYOUT = SERVICES_MODULE.PlatformLayout()
GRPC_SERVICES = ("inventory",)
