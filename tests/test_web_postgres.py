"""The case store on a real PostgreSQL: a throwaway server (initdb + pg_ctl in a temp dir),
the shipped migrations, and a round trip of a case and its reviewer answers.

Skipped, with the reason printed (pytest -rs), only where no server can be started: no
PostgreSQL binaries, or running as root without a ``postgres`` user to run them as.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

pytest.importorskip("sqlalchemy", reason="SQLAlchemy is not installed (pip install '.[serve]')")
pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'psycopg[binary]')")

from telltales.web.settings import database_url  # noqa: E402
from telltales.web.store import Answer, CaseFilter, CaseStore  # noqa: E402


def pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, else Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(found).resolve().parent
    for d in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(d, "pg_ctl").exists():
            return Path(d)
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_as() -> list[str]:
    """PostgreSQL refuses to run as root: run its tools as the 'postgres' user then."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        pytest.skip("running as root and there is no 'postgres' user to run initdb as")
    runuser = shutil.which("runuser")
    if not runuser:
        pytest.skip("running as root without runuser to drop to the 'postgres' user")
    return [runuser, "-u", "postgres", "--"]


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory):
    bindir = pg_bin()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql); .ci/run installs it")
    prefix = run_as()
    root = tmp_path_factory.mktemp("pg")
    data = root / "data"
    if prefix:
        shutil.chown(root, "postgres")
        root.chmod(0o755)
        for parent in root.parents:  # the postgres user must reach the folder
            if parent == Path(parent.anchor):
                break
            parent.chmod(parent.stat().st_mode | 0o011)
    port = free_port()
    init = subprocess.run([*prefix, str(bindir / "initdb"), "-D", str(data), "-U", "postgres",
                           "--auth=trust", "-E", "UTF8", "--no-sync"],
                          capture_output=True, text=True, timeout=120)
    if init.returncode != 0:
        pytest.fail(f"initdb failed: {init.stderr[-800:]}")
    log = root / "server.log"
    start = subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(log), "-w",
                            "-t", "60", "-o", f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -F",
                            "start"], capture_output=True, text=True, timeout=120)
    if start.returncode != 0:
        detail = log.read_text()[-800:] if log.exists() else start.stderr[-800:]
        pytest.fail(f"pg_ctl start failed: {detail}")
    try:
        yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run([*prefix, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
                       capture_output=True, timeout=60)


def test_migrations_and_a_case_round_trip_on_postgres(pg_url):
    from sqlalchemy import inspect as sa_inspect

    store = CaseStore(database_url(pg_url, Path(".")))
    try:
        store.migrate()
        store.migrate()  # a second start finds the schema current
        tables = set(sa_inspect(store.engine).get_table_names())
        assert {"cases", "uploads", "answers", "alembic_version"} <= tables
        report = {"verdict": "generated", "p_generated": 0.97, "error": None,
                  "image": {"width": 640, "height": 480}, "findings": [],
                  "manual_checks": [{"cue": "body.hands", "guidance": "count"}], "unicode": "Größe ✓"}
        sha = "ab" * 32
        case, created = store.add(sha, "first.png", report)
        again, created_again = store.add(sha, "second.png", report)
        assert created and not created_again and again.id == case.id
        assert again.filenames == ("first.png", "second.png")
        store.save_answers(case.id, [Answer("body.hands", "problem-seen", "six fingers")])
        store.save_answers(case.id, [Answer("body.hands", "looks-fine", "five")])
        got = store.get(case.id)
        assert got is not None and got.report == report
        assert [(a.cue, a.answer, a.note) for a in got.answers] == [("body.hands", "looks-fine", "five")]
        assert store.list(CaseFilter(q="SECOND"))[1] == 1  # file names match without case
        assert store.list(CaseFilter(q="abab"))[1] == 1
        assert store.list(CaseFilter(verdict="real"))[1] == 0
    finally:
        store.close()
