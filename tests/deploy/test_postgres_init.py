"""deploy/compose/postgres-init.sh, run as the postgres image runs it: on a fresh PostgreSQL 15
cluster in a temporary folder (PostgreSQL's own binaries, a Unix socket, no TCP)."""
from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from deploy_facts import LAYOUT, ROOT, SERVICES

SCRIPT = ROOT / "deploy/compose/postgres-init.sh"


def pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/15/bin/initdb")) or \
        ([shutil.which("initdb")] if shutil.which("initdb") else [])
    if not found:
        pytest.fail("PostgreSQL 15 server binaries (initdb) are needed: ./taquilla test installs postgresql")
    return Path(found[0]).parent


def as_postgres_user() -> list[str]:
    if os.geteuid() != 0:
        return []
    if not shutil.which("runuser"):
        pytest.fail("running as root without runuser (util-linux): initdb refuses to run as root")
    try:
        import pwd

        pwd.getpwnam("postgres")
    except KeyError:
        pytest.fail("no postgres user to run initdb as: the postgresql package creates it")
    return ["runuser", "-u", "postgres", "--"]


def run_as(prefix: list[str]):
    def run(*cmd: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([*prefix, *cmd], capture_output=True, text=True, timeout=120, cwd="/tmp")
        assert result.returncode == 0, f"{' '.join(cmd)} failed:\n{result.stdout}\n{result.stderr}"
        return result
    return run


@pytest.fixture
def cluster():
    bindir, prefix = pg_bin(), as_postgres_user()
    # Not pytest's tmp_path: its parents are private to root, and the server runs as postgres.
    with tempfile.TemporaryDirectory(prefix="taquilla-pg-init-") as folder:
        home = Path(folder)
        home.chmod(0o777)
        data = home / "data"
        run = run_as(prefix)
        run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-w", "-l", str(home / "log"),
            "-o", f"-k {home} -c listen_addresses= -c fsync=off -p 55999", "start")
        try:
            yield run, {"PGHOST": str(home), "PGPORT": "55999"}
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")


def test_init_script_creates_roles_and_one_database_per_service(cluster):
    run, conn = cluster
    env = {"PATH": os.environ["PATH"], "POSTGRES_USER": "postgres", **conn,
           "TAQUILLA_DB_OWNER_PASSWORD": "it's a secret", "TAQUILLA_DB_APP_PASSWORD": "app secret"}
    run("env", *(f"{k}={v}" for k, v in env.items()), "sh", str(SCRIPT))

    def query(sql: str) -> list[list[str]]:
        out = run("env", *(f"{k}={v}" for k, v in conn.items()), "psql", "-U", "postgres", "-d", "postgres",
                  "-AtF", "|", "-c", sql).stdout
        return [line.split("|") for line in out.splitlines()]

    owners = dict(query("SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname LIKE 'taquilla%'"))
    assert owners == {LAYOUT.database(svc): LAYOUT.db_owner for svc in SERVICES}
    roles = {r[0]: r[1:] for r in query(
        "SELECT rolname, rolcanlogin, rolsuper, rolpassword IS NOT NULL FROM pg_authid WHERE rolname LIKE 'taquilla%'")}
    assert roles == {LAYOUT.db_owner: ["t", "f", "t"], LAYOUT.db_app_role: ["t", "f", "t"]}
    (allowed,) = query(f"SELECT has_database_privilege('{LAYOUT.db_app_role}', '{LAYOUT.database('orders')}', "
                       "'CONNECT'), has_database_privilege('public', 'taquilla_orders', 'CONNECT')")
    assert allowed == ["t", "f"], "the app role connects; nobody else does by default"
