"""deploy/docker/service.Dockerfile and .dockerignore, checked without a Docker engine.

The file is parsed into stages and instructions; the entrypoint's shell line is run for real with a
stand-in `python` to show which command a container of the image starts.
"""
from __future__ import annotations

import json
import re
import shlex
import stat
import subprocess
from dataclasses import dataclass, field

import pytest
from deploy_facts import DOCKERFILE, DOCKERIGNORE, ROOT, SERVICES


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def all(self, keyword: str) -> list[str]:
        return [args for kw, args in self.instructions if kw == keyword]

    def last(self, keyword: str) -> str:
        found = self.all(keyword)
        assert found, f"stage {self.name or self.base} has no {keyword}"
        return found[-1]


def parse(text: str) -> tuple[dict[str, str], list[Stage]]:
    """(global ARG defaults, stages) of a Dockerfile: continuations joined, comments dropped."""
    logical, current = [], ""
    for raw in text.splitlines():
        line = raw.strip()
        if not current and (not line or line.startswith("#")):
            continue
        if line.startswith("#"):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        logical.append(current + line)
        current = ""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for line in logical:
        keyword, _, rest = line.partition(" ")
        keyword, rest = keyword.upper(), rest.strip()
        if keyword == "FROM":
            m = re.fullmatch(r"(?:--\S+\s+)*(\S+)(?:\s+AS\s+(\S+))?", rest, re.I)
            base = re.sub(r"\$\{(\w+)\}", lambda g: args.get(g[1], g[0]), m[1])
            stages.append(Stage(base, m[2]))
        elif not stages and keyword == "ARG":
            name, _, default = rest.partition("=")
            args[name] = default
        else:
            stages[-1].instructions.append((keyword, rest))
    return args, stages


def exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list), f"use the exec (JSON) form: {args}"
    return value


@pytest.fixture(scope="module")
def dockerfile() -> tuple[dict[str, str], list[Stage]]:
    return parse(DOCKERFILE.read_text())


@pytest.fixture(scope="module")
def runtime(dockerfile) -> Stage:
    return dockerfile[1][-1]


@pytest.fixture(scope="module")
def builder(dockerfile) -> Stage:
    return next(s for s in dockerfile[1] if s.name == "builder")


def test_one_dockerfile_builds_every_service(dockerfile, runtime, builder):
    text = DOCKERFILE.read_text()
    assert "ARG SERVICE" in [f"ARG {a}" for kw, a in builder.instructions if kw == "ARG"]
    assert "SERVICE" in runtime.all("ARG")
    assert re.search(r"^# Why one file serves eight images", text, re.M), "the comment explaining why"


def test_runtime_is_python_311_slim(runtime):
    assert re.fullmatch(r"python:3\.11-slim(-\w+)?", runtime.base), runtime.base


def test_builder_installs_only_the_service_from_the_lock(builder):
    runs = builder.all("RUN")
    syncs = [r for r in runs if "uv sync" in r]
    assert len(syncs) == 2, "one layer of third-party dependencies, one of the workspace code"
    for sync in syncs:
        assert "--frozen" in sync and "--no-dev" in sync
        assert re.search(r'--package "?taquilla-\$\{SERVICE\}"?', sync), sync
    assert "--no-install-workspace" in syncs[0] and "--no-install-workspace" not in syncs[1]


def test_dependency_layer_comes_before_the_source(builder):
    """Changing code must not reinstall third-party packages: copy sources after the first sync."""
    order = [(kw, args) for kw, args in builder.instructions if kw in ("COPY", "RUN")]
    first_sync = next(i for i, (kw, a) in enumerate(order) if kw == "RUN" and "--no-install-workspace" in a)
    source_copies = [i for i, (kw, a) in enumerate(order)
                     if kw == "COPY" and re.match(r"(libs|services/\$\{SERVICE\})/? ", a)]
    assert len(source_copies) == 2, order
    assert all(i > first_sync for i in source_copies)
    manifests = [i for i, (kw, a) in enumerate(order) if kw == "COPY" and "--from=manifests" in a]
    assert manifests and manifests[0] < first_sync, "the first sync sees only the manifests"


def test_runtime_runs_as_uid_10001(runtime):
    user = runtime.last("USER")
    assert user.split(":")[0] == "10001", "a numeric non-root user, so runAsNonRoot can verify it"
    assert any("useradd" in r and "--uid 10001" in r for r in runtime.all("RUN"))
    assert not any("chown" in r for r in runtime.all("RUN") + runtime.all("COPY")), \
        "the code stays owned by root, read-only to the service user"


def test_runtime_needs_no_writable_root_filesystem(runtime):
    env = " ".join(runtime.all("ENV"))
    assert re.search(r"PYTHONDONTWRITEBYTECODE=1", env)
    assert re.search(r"HOME=/tmp", env) and re.search(r"TMPDIR=/tmp", env)
    assert re.search(r"TAQUILLA_SERVICE=\$\{SERVICE\}", env)
    assert "VOLUME" not in [kw for kw, _ in runtime.instructions]


def test_healthcheck_uses_python_against_the_probe(runtime):
    healthcheck = runtime.last("HEALTHCHECK")
    options, _, command = healthcheck.partition("CMD")
    assert exec_form(command.strip()) == ["python", "/opt/taquilla/healthcheck.py"]
    assert "--interval=" in options and "--timeout=" in options
    assert any(a.split()[-1] == "/opt/taquilla/healthcheck.py" for a in runtime.all("COPY"))
    probe = (ROOT / "deploy/docker/healthcheck.py").read_text()
    assert "/healthz/live" in probe
    assert "curl" not in " ".join(runtime.all("RUN")), "slim images carry no curl; do not add one"


def test_entrypoint_starts_the_service_module_with_api_by_default(runtime, tmp_path):
    entrypoint, cmd = exec_form(runtime.last("ENTRYPOINT")), exec_form(runtime.last("CMD"))
    assert cmd == ["api"]
    # Run the entrypoint as the container would, with a `python` that reports how it was called.
    stub = tmp_path / "python"
    stub.write_text('#!/bin/sh\nprintf "%s\\n" "$@"\n')
    stub.chmod(stub.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "TAQUILLA_SERVICE": "orders"}
    for args, expected in (([*cmd], ["-m", "orders_service", "api"]),
                           (["worker"], ["-m", "orders_service", "worker"]),
                           (["migrate"], ["-m", "orders_service", "migrate"])):
        out = subprocess.run([*entrypoint, *args], env=env, capture_output=True, text=True, check=True)
        assert out.stdout.split("\n")[:-1] == expected, shlex.join([*entrypoint, *args])
    assert "exec python -m" in " ".join(entrypoint), "python must replace the shell to get SIGTERM"


def glob_regex(pattern: str) -> str:
    """A .dockerignore pattern as a regex: `**/` any folders (or none), `*` and `?` within one."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i:end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return out


def dockerignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule: the last matching pattern wins; a pattern matches a path or any parent."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    excluded = False
    for pattern in patterns:
        negate = pattern.startswith("!")
        regex = glob_regex(pattern.lstrip("!").strip("/"))
        if any(re.fullmatch(regex, c) for c in candidates):
            excluded = not negate
    return excluded


def test_dockerignore_keeps_local_state_out_and_build_inputs_in():
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()
                if line.strip() and not line.startswith("#")]
    for path in (".venv/bin/python", "services/orders/.venv/x", "var/db", ".git/HEAD",
                 "libs/platform/src/taquilla_platform/__pycache__/x.pyc", ".ruff_cache/x",
                 ".pytest_cache/x", "services/fiscal/tests/unit/test_x.py", ".env"):
        assert dockerignored(path, patterns), f"{path} must not reach the build context"
    for path in ("uv.lock", "pyproject.toml", "libs/platform/pyproject.toml",
                 "libs/platform/src/taquilla_platform/service.py", "services/fiscal/alembic.ini",
                 "services/fiscal/migrations/env.py", "deploy/docker/healthcheck.py"):
        assert (ROOT / path).exists() or path.startswith("deploy/"), path
        assert not dockerignored(path, patterns), f"{path} is needed by the build"


def test_every_service_package_can_be_selected():
    """`--package taquilla-<svc>` names a real workspace member for each service."""
    for svc in SERVICES:
        pyproject = (ROOT / f"services/{svc}/pyproject.toml").read_text()
        assert re.search(rf'^name = "taquilla-{svc}"', pyproject, re.M), svc
        assert (ROOT / f"services/{svc}/src/{svc}_service").is_dir(), svc


@pytest.mark.parametrize("svc", SERVICES)
def test_each_service_has_its_own_dockerfile_identical_to_the_template_but_for_the_service(svc, dockerfile):
    """services/<svc>/Dockerfile builds with no argument; deploy/k8s/generate.py writes it from the
    template (test_k8s checks it is current), so every hardening above holds for it too."""
    path = ROOT / "services" / svc / "Dockerfile"
    assert path.is_file(), f"{path} is missing: run `python deploy/k8s/generate.py`"
    text = path.read_text()
    assert text.startswith("# syntax=docker/dockerfile:1\n"), "the syntax directive must stay the first line"
    assert f"docker build -f services/{svc}/Dockerfile" in text
    args, stages = parse(text)
    template_args, template_stages = dockerfile
    assert args == template_args
    assert [(s.base, s.name) for s in stages] == [(s.base, s.name) for s in template_stages]
    for mine, theirs in zip(stages, template_stages, strict=True):
        expected = [(kw, f"SERVICE={svc}" if (kw, a) == ("ARG", "SERVICE") else a) for kw, a in theirs.instructions]
        assert mine.instructions == expected, f"stage {mine.name or mine.base} differs from the template"
    builder = next(s for s in stages if s.name == "builder")
    assert f"SERVICE={svc}" in builder.all("ARG")
