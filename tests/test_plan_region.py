"""`plan --region` sets the default of `var.region` in variables.tf (as its help says), not only
the `.tfvars.example`; any text given there stays one inert HCL string."""

from __future__ import annotations

from pathlib import Path

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from agents.validator.tf_module import literal
from tests.golden import workspace_with
from tests.helpers import migrator


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    return ws


def region_values(out: Path) -> set[tuple[str, str]]:
    """(variables.tf default, tfvars example value) of `region` in every wave, as decoded strings."""
    options = SerializationOptions(with_comments=False)
    found = set()
    for wave in sorted((out / "terraform-aws").iterdir()):
        parsed = hcl2.loads(
            (wave / "variables.tf").read_text(encoding="utf-8"), serialization_options=options
        )
        variables = {k: v for block in parsed["variable"] for k, v in block.items()}
        example = hcl2.loads(
            (wave / "terraform.tfvars.example").read_text(encoding="utf-8"), serialization_options=options
        )
        found.add((literal(variables['"region"']["default"]), literal(example["region"])))
    return found


@pytest.mark.parametrize("region", ["eu-west-3", "us-east-1", 'x" }\nprovider "evil" { region = "y'])
def test_region_is_the_variable_default(planned: Path, tmp_path: Path, region: str) -> None:
    result = migrator(
        "plan", "--target", "terraform-aws", "--out", str(tmp_path), "--region", region, workspace=planned
    )
    assert result.code in (0, 7), result.stderr
    assert region_values(tmp_path) == {(region, region)}  # every wave, both files, exactly
