"""A throw-away PostgreSQL cluster from Debian's server package, with password authentication:
the test suite's PostgreSQL and the estate benchmark's (benchmarks/estate.py). The cluster lives
in a temporary folder, listens on loopback only, runs without fsync and is removed on exit."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from glob import glob
from pathlib import Path

PASSWORD = "pg-Secret-42"  # a loopback cluster that lives as long as the block


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Start a cluster; yield its SQLAlchemy URL (user migrator, database postgres); remove it."""
    bins = sorted(glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        raise RuntimeError("PostgreSQL server binaries missing: make test installs Debian's postgresql")
    bindir = Path(bins[-1])
    datadir = Path(tempfile.mkdtemp(prefix="migrator-pg-"))
    port = _free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root
        shutil.chown(datadir, "postgres", "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    pwfile = datadir / "pw"
    pwfile.write_text(PASSWORD)
    if as_postgres:
        shutil.chown(pwfile, "postgres", "postgres")
    data = str(datadir / "data")
    initdb = [
        str(bindir / "initdb"),
        "-D",
        data,
        "-U",
        "migrator",
        "--pwfile",
        str(pwfile),
        "-A",
        "scram-sha-256",
    ]
    subprocess.run([*as_postgres, *initdb], check=True, capture_output=True)
    opts = f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [str(bindir / "pg_ctl"), "-D", data, "-o", opts, "-l", str(datadir / "log"), "-w", "start"]
    subprocess.run([*as_postgres, *start], check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg2://migrator:{PASSWORD}@127.0.0.1:{port}/postgres"
    finally:
        stop = [str(bindir / "pg_ctl"), "-D", data, "-m", "immediate", "stop"]
        subprocess.run([*as_postgres, *stop], check=False, capture_output=True)
        shutil.rmtree(datadir, ignore_errors=True)


def fresh_database(url: str, name: str) -> str:
    """An empty database `name` on that server (dropped first if a run left it), as a URL with
    the password in it, for the caller's own environment only."""
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(url).set(database=name).render_as_string(hide_password=False)
