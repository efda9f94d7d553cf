"""./taquilla and .ci/run: syntax, help, and the bootstrap steps that can run on this machine as it is.

The script can be sourced (it then only defines its functions), so each step is run on its own here.
"""
from __future__ import annotations

import os
import socket
import subprocess
from pathlib import Path

from taquilla_devtools.platform import REPO_ROOT

SCRIPT = REPO_ROOT / "taquilla"
CI_RUN = REPO_ROOT / ".ci" / "run"


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, cwd=cwd, env={**os.environ, **(env or {})},
                          stdin=subprocess.DEVNULL, timeout=120)


def sourced(snippet: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """Run `snippet` in bash after sourcing ./taquilla, from the repository root like the script does."""
    return run("bash", "-c", f'source "{SCRIPT}"; cd "$TAQUILLA_ROOT"; {snippet}', env=env)


def test_the_scripts_are_valid_bash_and_executable():
    for path in (SCRIPT, CI_RUN):
        assert run("bash", "-n", str(path)).returncode == 0
        assert os.access(path, os.X_OK)
    assert CI_RUN.read_text().splitlines()[:1] == ["#!/usr/bin/env bash"]
    lines = [line for line in CI_RUN.read_text().splitlines() if line and not line.startswith("#")]
    assert lines == ["set -euo pipefail", 'cd "$(dirname "$0")/.."', "exec ./taquilla test"]


def test_help_explains_the_commands():
    result = run(str(SCRIPT), "help")
    assert result.returncode == 0
    for expected in ("Usage: ./taquilla COMMAND", "  up [--fresh]", "  test [PYTEST ARGS...]", "uv sync --frozen",
                     "TAQUILLA_SKIP_SYNC=1"):
        assert expected in result.stdout


def test_no_command_or_an_unknown_one_is_an_error_with_the_usage():
    nothing = run(str(SCRIPT))
    assert nothing.returncode == 2 and "Usage: ./taquilla COMMAND" in nothing.stderr
    unknown = run(str(SCRIPT), "deploy")
    assert unknown.returncode == 1 and "taquilla: error: unknown command: deploy" in unknown.stderr


def test_it_works_from_another_directory(tmp_path):
    assert run(str(SCRIPT), "help", cwd=tmp_path).returncode == 0


def test_test_targets_are_the_test_folders_that_exist_unless_paths_are_given():
    expected = [str(p.relative_to(REPO_ROOT)) for pattern in ("libs/*/tests", "services/*/tests", "tools/*/tests")
                for p in sorted(REPO_ROOT.glob(pattern)) if p.is_dir()]
    if (REPO_ROOT / "tests").is_dir():
        expected.append("tests")
    assert "tools/devtools/tests" in expected
    assert sourced("test_targets").stdout.split() == expected
    assert sourced("test_targets -k fiscal -x").stdout.split() == expected
    assert sourced("test_targets -q tools/devtools/tests").stdout == ""
    assert sourced("test_targets tools/devtools/tests/test_script.py::test_help_explains_the_commands").stdout == ""


def test_pytest_arguments_and_exit_code_pass_through(tmp_path):
    (tmp_path / "test_passing.py").write_text("def test_ok():\n    assert 1 + 1 == 2\n")
    (tmp_path / "test_failing.py").write_text("def test_not_ok():\n    assert 1 + 1 == 3\n")
    skip_bootstrap = "bootstrap() { :; }; ensure_compose() { :; }; ensure_kubectl() { :; };"
    passing = sourced(f"{skip_bootstrap} cmd_test {tmp_path}/test_passing.py -q -p no:cacheprovider")
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 passed" in passing.stdout
    failing = sourced(f"{skip_bootstrap} cmd_test {tmp_path} -q -p no:cacheprovider -k not_ok")
    assert failing.returncode == 1
    assert "1 failed, 1 deselected" in failing.stdout


def test_python_and_uv_are_found_here():
    result = sourced("ensure_python && ensure_uv && echo \"PYTHON=$PYTHON\"")
    assert result.returncode == 0, result.stderr
    assert "==> Python 3.11: " in result.stdout and "==> uv: " in result.stdout
    python = result.stdout.split("PYTHON=")[1].strip()
    assert run(python, "--version").stdout.startswith("Python 3.11")


def test_running_infrastructure_is_used_without_installing_anything(tmp_path):
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    marker = tmp_path / "apt-get-was-called"
    for tool in ("apt-get", "pg_ctlcluster", "rabbitmq-server", "redis-server"):
        stub = fake_bin / tool
        stub.write_text(f"#!/bin/sh\necho {tool} \"$@\" >> {marker}\nexit 1\n")
        stub.chmod(0o755)
    result = sourced("ensure_infrastructure", env={"PATH": f"{fake_bin}:{os.environ['PATH']}"})
    assert result.returncode == 0, result.stdout + result.stderr
    for line in ("==> PostgreSQL is answering on 127.0.0.1:5432", "==> RabbitMQ is answering on 127.0.0.1:5672",
                 "==> Redis is answering on 127.0.0.1:6379",
                 "==> PostgreSQL lets 'postgres' in over 127.0.0.1 without a password"):
        assert line in result.stdout
    assert not marker.exists(), marker.read_text()


def test_waiting_for_a_port_succeeds_when_it_answers_and_times_out_clearly_when_not(free_port):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        answered = sourced(f'wait_for_port "Test server" {port} 5 "no hint"')
    assert answered.returncode == 0 and f"Test server is answering on 127.0.0.1:{port}" in answered.stdout
    closed = free_port()
    silent = sourced(f'wait_for_port RabbitMQ {closed} 1 "Its logs are in /var/log/rabbitmq/."')
    assert silent.returncode == 1
    assert (f"taquilla: error: RabbitMQ did not answer on 127.0.0.1:{closed} within 1s. "
            "Its logs are in /var/log/rabbitmq/.") in silent.stderr


def test_a_postgresql_that_does_not_let_postgres_in_is_explained_not_changed(free_port):
    # a PostgreSQL this script did not install is never reconfigured: the message says how to fix it
    result = sourced(f"PG_PORT={free_port()}; ensure_postgres_trust")
    assert result.returncode == 1
    assert "does not let the 'postgres' user in without a password" in result.stderr
    assert "host    all    all    127.0.0.1/32    trust" in result.stderr
    assert "pg_ctlcluster --skip-systemctl-redirect <version> main reload" in result.stderr
