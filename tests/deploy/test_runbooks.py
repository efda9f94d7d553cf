"""deploy/runbooks: an operator following a runbook at 3 a.m. finds the commands and endpoints it names.

Every `python -m <module>` a runbook tells to run must be importable from the workspace, every
`/api/v1/...` path it calls must be a route some service declares, every table it queries must be a
table of the service database it names, and the index lists exactly the runbooks there are.
"""
from __future__ import annotations

import importlib.util
import re

import pytest
from deploy_facts import ROOT, SERVICES

RUNBOOKS = ROOT / "deploy/runbooks"
REQUIRED = {"stuck-saga.md", "dead-letter-queue.md", "fiscal-gap-alarm.md", "rotate-keys.md",
            "tenant-backup-restore.md"}


def runbooks() -> list:
    return sorted(p for p in RUNBOOKS.glob("*.md") if p.name != "README.md")


def declared_routes() -> list[re.Pattern]:
    """Every route of every service, from its routers' source: `APIRouter(prefix=...)` + `@router.<verb>(...)`."""
    patterns = []
    for path in (ROOT / "services").glob("*/src/*_service/entrypoints/http/*.py"):
        text = path.read_text()
        prefix = re.search(r'APIRouter\([^)]*prefix="([^"]*)"', text)
        for route in re.findall(r'@\w+\.(?:get|post|put|patch|delete)\(\s*"([^"]*)"', text):
            full = (prefix[1] if prefix else "") + route
            regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(full))
            patterns.append(re.compile(regex + "$"))
    return patterns


def test_the_index_lists_every_runbook_and_the_issue_asks_for_all_of_them():
    names = {p.name for p in runbooks()}
    assert REQUIRED <= names, f"missing runbooks: {REQUIRED - names}"
    index = (RUNBOOKS / "README.md").read_text()
    linked = set(re.findall(r"\]\(([\w-]+\.md)\)", index))
    assert linked == names, f"index and folder differ: {linked ^ names}"


@pytest.mark.parametrize("path", runbooks(), ids=lambda p: p.name)
def test_modules_a_runbook_runs_exist(path):
    modules = set(re.findall(r"python -m ([\w.]+)", path.read_text()))
    for module in modules:
        assert importlib.util.find_spec(module) is not None, f"{path.name}: `python -m {module}` does not exist"


@pytest.mark.parametrize("path", runbooks(), ids=lambda p: p.name)
def test_endpoints_a_runbook_calls_exist(path):
    routes = declared_routes()
    assert routes, "no routes found in services/*/entrypoints/http"
    for call in re.findall(r"(/api/v1/[\w/{}$.<>-]+)", path.read_text()):
        normalised = re.sub(r"\$\w+|\{[^}]+\}|<[^>]+>", "x", call).rstrip(".")
        assert any(r.match(normalised) for r in routes), f"{path.name}: {call} is not a route of any service"


def model_tables(service: str) -> set[str]:
    """Table names a service's migrations create (what its database will hold)."""
    text = "".join(p.read_text() for p in (ROOT / "services" / service / "migrations").rglob("*.py"))
    return set(re.findall(r"create_table\(\s*[\"'](\w+)[\"']", text)) | {"outbox_messages", "inbox_messages"}


def test_tables_a_runbook_queries_exist_in_that_service():
    checks = {"stuck-saga.md": {"orders": ["purchase_sagas", "saga_transitions", "outbox_messages"],
                                "inventory": ["holds"], "fiscal": ["fiscal_documents"], "tickets": ["tickets"]},
              "fiscal-gap-alarm.md": {"fiscal": ["fiscal_series", "fiscal_documents"]},
              "rotate-keys.md": {"tickets": ["signing_keys"]}}
    for name, by_service in checks.items():
        text = (RUNBOOKS / name).read_text()
        for service, tables in by_service.items():
            assert service in SERVICES
            for table in tables:
                assert table in text, f"{name} no longer mentions {table}: update this test"
                assert table in model_tables(service), f"{name}: {service} has no table {table}"
