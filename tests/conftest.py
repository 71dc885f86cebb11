"""Shared fixtures: a real vcsim (seeded with the demo estate) and a real PostgreSQL server."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from migrator.simulator.build import binary_path
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.simulator.postgres import fresh_database, throwaway_postgres
from migrator.simulator.seed import seed

ROOT = Path(__file__).resolve().parents[1]
DEMO_ESTATE = ROOT / "fixtures" / "estates" / "demo.yaml"
PASSWORD_ENV = "TEST_VC_PASSWORD"


@pytest.fixture(scope="session")
def vcsim_binary() -> Path:
    # No skip: the suite is only green when the real simulator runs (make test installs it).
    return binary_path()


@pytest.fixture(scope="session")
def demo_estate() -> Estate:
    return Estate.load(DEMO_ESTATE)


@pytest.fixture(scope="session")
def demo_sim(vcsim_binary: Path, demo_estate: Estate) -> Iterator[Simulator]:
    sim = Simulator(topology=demo_estate.topology(), password="demo-S3cret!pw").start()
    try:
        seed(sim, demo_estate)
        yield sim
    finally:
        sim.stop()


def discover_args(sim: Simulator, *extra: str) -> list[str]:
    return sim.discover_args(PASSWORD_ENV, *extra)


def sim_env(sim: Simulator) -> dict[str, str]:
    return {PASSWORD_ENV: sim.password}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throw-away PostgreSQL cluster from Debian's package, with password authentication."""
    with throwaway_postgres() as url:
        yield url


def fresh_pg_database(url: str, name: str) -> str:
    """An empty database `name` on the suite's PostgreSQL server (dropped first if a run left it),
    as a URL with the password in it, for the test's own environment only."""
    return fresh_database(url, name)


APP_ROLE = "migrator_app"
APP_PASSWORD = "app-Secret-42"


def app_role_database(url: str, name: str) -> str:
    """A fresh database `name` owned by the role `migrator_app`, NOSUPERUSER NOBYPASSRLS (the suite
    connects as the cluster's superuser, which row-level security would not bind): the migrations
    run as it, so it owns the tables, and their FORCE ROW LEVEL SECURITY binds it
    (docs/scale.md#tenants). A URL as that role, for the test's own environment only."""
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": APP_ROLE}).first() is None:
            conn.execute(
                text(
                    f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE "
                    f"PASSWORD '{APP_PASSWORD}'"
                )
            )
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}" OWNER {APP_ROLE}'))
    admin.dispose()
    app = make_url(url).set(database=name, username=APP_ROLE, password=APP_PASSWORD)
    return app.render_as_string(hide_password=False)
