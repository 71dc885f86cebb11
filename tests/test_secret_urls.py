"""URLs given on the command line never carry a secret into messages or generated files:
`discover --server` and `plan --vddk-url` refuse credentials before repeating the value."""

from __future__ import annotations

from pathlib import Path

import pytest

from migrator.errors import ExitCode
from tests.golden import workspace_with
from tests.helpers import assert_one_line_error, migrator

SECRET = "Sup3r-Secret"


@pytest.mark.parametrize(
    "server",
    [
        f"https://ro:{SECRET}@vc.example.com/sdk",
        f"ftp://ro:{SECRET}@vc.example.com",  # a wrong scheme is reported after the credentials
        f"ro:{SECRET}@vc.example.com",
        f"https://vc.example.com/sdk?password={SECRET}",
        f"https://:{SECRET}@/sdk",
    ],
)
def test_server_with_credentials_is_refused_without_echo(server: str, tmp_path: Path) -> None:
    result = migrator(
        "discover", "--server", server, "--user", "ro", "--password-env", "NOPE", workspace=tmp_path
    )
    assert_one_line_error(result, ExitCode.USAGE, "--server")
    assert SECRET not in result.stdout + result.stderr


@pytest.mark.parametrize(
    "url", [f"https://ro:{SECRET}@vc.example.com/sdk", f"https://vc.example.com/sdk?token={SECRET}"]
)
def test_vddk_url_with_credentials_is_refused_before_writing(url: str, tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    out = tmp_path / "out"
    args = ("--vddk-url", url, "--vddk-thumbprint", "AA:BB")
    result = migrator("plan", "--target", "kubevirt", "--out", str(out), *args, workspace=ws)
    assert_one_line_error(result, ExitCode.USAGE, "--vddk-url must not carry credentials")
    assert SECRET not in result.stdout + result.stderr
    assert not out.exists()
