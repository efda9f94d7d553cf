"""Each service's image installs only that service's locked dependencies (`uv sync --package
taquilla-<svc>`): every module its code, and the workspace libraries it uses, import must come from
one of them, or the container dies on import although every test passes in the workspace's venv,
where all the services' packages sit side by side.
"""
from __future__ import annotations

import ast
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from deploy_facts import ROOT, SERVICES


def _uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(Path.home() / ".local/bin/uv")
    assert Path(found).exists(), "uv is needed to read what an image installs (./taquilla installs it)"
    return found


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def installed_by_image(svc: str) -> tuple[set[str], list[Path]]:
    """The distributions and the workspace members' folders the image of `svc` gets, read from the lock
    as the Dockerfile's `uv sync --frozen --no-dev --package taquilla-<svc>` reads it."""
    exported = subprocess.run(
        [_uv(), "export", "--frozen", "--no-dev", "--no-hashes", "--package", f"taquilla-{svc}"],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=60,
        env={**os.environ, "UV_PYTHON_DOWNLOADS": "never"}).stdout
    distributions, members = set(), []
    for line in exported.splitlines():
        line = line.strip()
        if line.startswith("-e "):
            members.append(ROOT / line[3:].strip())
        elif line and not line.startswith("#"):
            distributions.add(_normal(re.split(r"[=<>;\[ ]", line, maxsplit=1)[0]))
    return distributions, members


def imported_modules(folder: Path) -> dict[str, Path]:
    """Top-level names of the absolute imports in the Python files under folder/src -> a file importing it."""
    found: dict[str, Path] = {}
    for path in sorted((folder / "src").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                found.setdefault(name.split(".")[0], path)
    return found


@pytest.mark.parametrize("svc", SERVICES)
def test_every_module_a_service_imports_is_installed_in_its_image(svc):
    distributions, members = installed_by_image(svc)
    assert ROOT / f"services/{svc}" in members
    own = {path.name for member in members for path in (member / "src").iterdir() if path.is_dir()}
    providers = importlib.metadata.packages_distributions()  # module -> distributions, from the dev venv
    missing = {}
    for member in members:
        for module, where in imported_modules(member).items():
            if module in sys.stdlib_module_names or module in own or module == "__future__":
                continue
            offered = {_normal(d) for d in providers.get(module, [])}
            assert offered, f"{where.relative_to(ROOT)} imports {module}, which no installed distribution provides"
            if not offered & distributions:
                missing[module] = (sorted(offered), str(where.relative_to(ROOT)))
    assert missing == {}, f"taquilla-{svc}'s image lacks these (add them to its pyproject.toml): {missing}"
