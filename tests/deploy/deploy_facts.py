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
OVERLAYS = ("dev", "prod")
TARGETS = ("base", *(f"overlays/{o}" for o in OVERLAYS))


def kubectl() -> str:
    import shutil

    import pytest

    found = shutil.which("kubectl")
    if not found:
        pytest.fail("kubectl (with its built-in kustomize) is needed to render the manifests: install it "
                    "(https://kubernetes.io/docs/tasks/tools/; Debian: the kubectl package) and run again")
    return found


_RENDERED: dict[str, list[dict]] = {}


def rendered(target: str) -> list[dict]:
    """`kubectl kustomize deploy/k8s/<target>`: the objects a cluster would receive."""
    import subprocess

    import yaml

    if target not in _RENDERED:
        result = subprocess.run([kubectl(), "kustomize", str(K8S / target)], capture_output=True, text=True,
                                timeout=120)
        assert result.returncode == 0, f"kustomize build {target} failed:\n{result.stderr}"
        _RENDERED[target] = [d for d in yaml.safe_load_all(result.stdout) if d]
    return _RENDERED[target]
