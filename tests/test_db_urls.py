"""Database URLs: no password on the command line (user part or query string), none printed
anywhere, and a malformed URL is exit 5 with one line. Driven through the real CLI, against a
real PostgreSQL server where a server matters."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from migrator.dburl import carries_secret, redact, scrub
from migrator.errors import ExitCode
from migrator.settings import Settings
from tests.conftest import free_port
from tests.golden import FIXTURES
from tests.helpers import assert_one_line_error, migrator

SECRET = "Hunter2-S3cret"

ARGV_URLS = [
    f"postgresql://ro:{SECRET}@127.0.0.1/db",
    f"postgresql://ro@127.0.0.1/db?password={SECRET}",
    f"postgresql+psycopg2://ro@127.0.0.1/db?sslmode=require&sslpassword={SECRET}",
    f"postgresql://ro@127.0.0.1/db?application_name=x&PASSWORD={SECRET}",
    f"postgresql://ro@127.0.0.1/db?password={SECRET}&password=other",
    f"postgresql://ro@127.0.0.1:notaport/db?password={SECRET}",  # unparseable, still refused
    f"postgresql://ro:{SECRET}@[::1/db",
]


@pytest.mark.parametrize("url", ARGV_URLS)
def test_db_option_refuses_any_password(url: str, tmp_path: Path) -> None:
    result = migrator("--db", url, "snapshots", "list", workspace=tmp_path)
    assert_one_line_error(result, ExitCode.USAGE, "--db must not carry a password", "MIGRATOR_DB_URL")
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql+psycopg2://ro@127.0.0.1:{{port}}/db?password={SECRET}",
        f"postgresql+psycopg2://ro@127.0.0.1:{{port}}/db?sslpassword={SECRET}&connect_timeout=5",
        f"postgresql+psycopg2://ro:{SECRET}@127.0.0.1:{{port}}/db",
        f"postgresql://ro@127.0.0.1:{{port}}/db?password={SECRET}",  # psycopg 3 not installed
    ],
)
def test_env_url_secrets_are_masked_in_errors(url: str, tmp_path: Path) -> None:
    env = {"MIGRATOR_DB_URL": url.format(port=free_port())}  # nothing listens there
    result = migrator("snapshots", "list", workspace=tmp_path, env=env)
    assert_one_line_error(result, ExitCode.STORE, "***")
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("postgresql://ro@127.0.0.1:notaport/db", "invalid port"),
        (f"postgresql://ro:{SECRET}@db.example:5432x/db", "invalid port"),
        ("not a url at all", "not of the form"),
        ("://", "not of the form"),
    ],
)
def test_malformed_url_is_an_unusable_store(url: str, reason: str, tmp_path: Path) -> None:
    for how in ("env", "argv"):
        if how == "argv" and SECRET in url:
            continue  # refused as usage before it is parsed (test above)
        args = ("--db", url) if how == "argv" else ()
        env = {"MIGRATOR_DB_URL": url} if how == "env" else {}
        result = migrator(*args, "snapshots", "list", workspace=tmp_path, env=env)
        assert_one_line_error(result, ExitCode.STORE, "database URL is malformed", reason)
        assert SECRET not in result.stderr and "internal error" not in result.stderr


def test_password_in_the_query_string_works_and_never_shows(postgres_url: str, tmp_path: Path) -> None:
    """libpq accepts ?password=: it works from the environment, and no output ever shows it."""
    parsed = make_url(postgres_url)
    password = str(parsed.password)
    in_query = parsed.set(password=None).update_query_dict({"password": password})
    env = {"MIGRATOR_DB_URL": in_query.render_as_string(hide_password=False)}
    outputs = []
    for args in (
        ("import", "inventory", str(FIXTURES / "inventories" / "demo.json")),
        ("snapshots", "list", "--format", "json"),
        ("snapshots", "list"),
    ):
        result = migrator(*args, workspace=tmp_path, env=env)
        assert result.code == 0, result.stderr
        outputs.append(result.stdout + result.stderr)
    wrong = in_query.update_query_dict({"password": "Wrong-" + password})
    refused = migrator(
        "snapshots", "list", workspace=tmp_path, env={"MIGRATOR_DB_URL": wrong.render_as_string(False)}
    )
    assert_one_line_error(refused, ExitCode.STORE, "password authentication failed", "***")
    outputs.append(refused.stdout + refused.stderr)
    for text in outputs:
        assert password not in text
    files = [p.read_bytes().decode("latin-1") for p in tmp_path.rglob("*") if p.is_file()]
    assert all(password not in text for text in files)


def test_settings_repr_and_helpers_mask_every_secret() -> None:
    url = f"postgresql://ro:{SECRET}@h/db?sslpassword={SECRET}x&token=t0k3n-value&sslmode=require"
    shown = repr(Settings(workspace=Path("ws"), db_url=url))
    assert SECRET not in shown and "t0k3n-value" not in shown and "sslmode=require" in shown
    assert carries_secret(url) and not carries_secret("postgresql://ro@h/db?sslmode=require&passfile=/x")
    assert (
        redact("postgresql://ro@h/db?passfile=/home/ro/.pgpass")
        == "postgresql://ro@h/db?passfile=/home/ro/.pgpass"
    )
    assert scrub(f"failed for {SECRET} and {SECRET}x", url) == "failed for *** and ***"
