"""The MGN hand-off of the terraform-aws target: every header of the import CSV is a documented
MGN column, every row agrees with the wave's Terraform (instance type, subnet key, security
group, tags), and inventory text cannot become a spreadsheet formula.

The golden files are the terraform-aws goldens (tests/test_transpilers.py, `make golden`).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from agents.validator.tf_module import literal
from tests.golden import GOLDEN, workspace_with
from tests.helpers import migrator
from tests.test_transpilers import hostile_wave
from transpilers import mgn
from transpilers.escape import csv_cell
from transpilers.model import TargetOptions
from transpilers.registry import TRANSPILERS


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def instances(main_tf: str) -> dict[str, dict[str, Any]]:
    """aws_instance blocks of a main.tf by their Name tag."""
    parsed = hcl2.loads(main_tf, serialization_options=SerializationOptions(with_comments=False))
    found = {}
    for entry in parsed.get("resource", []):
        for kind, named in entry.items():
            if literal(kind) != "aws_instance":
                continue
            for body in named.values():
                tags = {literal(k): literal(v) for k, v in body["tags"].items()}
                found[tags["Name"]] = {"body": body, "tags": tags}
    return found


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    out = tmp_path_factory.mktemp("out")
    result = migrator(
        "plan", "--target", "terraform-aws", "--out", str(out), "--region", "eu-central-1", workspace=ws
    )
    assert result.code == 0, result.stderr
    return out / "terraform-aws"


def test_every_emitted_header_is_a_documented_mgn_column(demo_out: Path) -> None:
    for wave in ("wave-01", "wave-02", "wave-03"):
        header = next(csv.reader(io.StringIO((demo_out / wave / mgn.CSV_FILE).read_text(encoding="utf-8"))))
        assert [h for h in header if not mgn.documented(h)] == []
        assert {"mgn:server:user-provided-id", "mgn:launch:instance-type", "mgn:wave:name"} <= set(header)


def test_the_column_check_rejects_what_aws_does_not_document() -> None:
    assert mgn.documented("mgn:launch:nic:1:security-group-id:0")
    assert mgn.documented("mgn:server:tag:source-moref")
    assert mgn.documented("mgn:launch:volume:/dev/sda:type")
    assert not mgn.documented("mgn:launch:boot-mode")
    assert not mgn.documented("mgn:launch:nic:x:subnet-id")
    assert not mgn.documented("mgn:server:name")


def test_each_row_matches_the_waves_terraform(demo_out: Path) -> None:
    for wave in ("wave-01", "wave-02", "wave-03"):
        folder = demo_out / wave
        found = instances((folder / "main.tf").read_text(encoding="utf-8"))
        table = rows((folder / mgn.CSV_FILE).read_text(encoding="utf-8"))
        assert sorted(r["mgn:server:tag:Name"] for r in table) == sorted(found)
        for row in table:
            tf = found[row["mgn:server:tag:Name"]]
            assert row["mgn:launch:instance-type"] == literal(tf["body"]["instance_type"])
            assert row["mgn:region"] == "eu-central-1"
            subnet = literal(tf["body"]["subnet_id"])  # ${var.subnet_ids["key"]}
            assert "{{" + subnet[2:-1].replace('"', "") + "}}" == row["mgn:launch:nic:0:subnet-id"]
            [group] = [literal(g) for g in tf["body"]["vpc_security_group_ids"]]
            assert "{{" + group[2:-1] + "}}" == row["mgn:launch:nic:0:security-group-id:0"]
            for key, value in tf["tags"].items():
                assert row[f"mgn:server:tag:{key}"] == row[f"mgn:launch:tag:instance:{key}"] == value


def test_post_launch_actions_are_the_runbooks_port_checks(demo_out: Path) -> None:
    actions = json.loads((demo_out / "wave-01" / mgn.POST_LAUNCH_FILE).read_text(encoding="utf-8"))
    by_server = {a["server"]: a for a in actions["postLaunchActions"]}
    assert by_server["payroll-db-dev"] == {
        "server": "payroll-db-dev",
        "actionName": "migrator-verify-ports",
        "ssmDocumentName": "AWS-RunShellScript",
        "mustSucceedForCutover": True,
        "commands": ["ss -ltnH 'sport = :5432' | grep -q ."],
    }


def test_the_golden_waves_carry_the_mgn_files() -> None:
    for wave in ("wave-01", "wave-02", "wave-03"):
        assert (GOLDEN / "iac" / "terraform-aws" / wave / mgn.CSV_FILE).is_file()
        assert (GOLDEN / "iac" / "terraform-aws" / wave / mgn.POST_LAUNCH_FILE).is_file()


@pytest.mark.parametrize(
    ("text", "cell"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("web-01", "web-01"),
    ],
)
def test_csv_cells_starting_like_a_formula_are_quoted(text: str, cell: str) -> None:
    assert csv_cell(text) == cell


def test_hostile_names_stay_single_cells_and_never_formulas() -> None:
    wave = hostile_wave()
    options = TargetOptions(vddk_url="https://vc/sdk")
    files = TRANSPILERS["terraform-aws"].render(wave, options).files
    table = rows(files[mgn.CSV_FILE])
    assert len(table) == len(wave.vms)
    for row in table:
        assert all(v[:1] not in ("=", "+", "-", "@") for v in row.values())
        assert "\n" not in row["mgn:app:name"] and "\r" not in row["mgn:wave:name"]
    formula = mgn.import_csv([{"mgn:app:name": "=cmd|'/C calc'!A0"}])
    assert rows(formula) == [{"mgn:app:name": "'=cmd|'/C calc'!A0"}]
