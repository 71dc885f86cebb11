"""The MGN hand-off of the terraform-aws target: every header of the import CSV is a documented
MGN column, every row agrees with the wave's Terraform (instance type, subnet key, security
group, tags), and inventory text cannot become a spreadsheet formula.

The golden files are the terraform-aws goldens (tests/test_transpilers.py, `make golden`).

`migrator handoff mgn` is tested against files in the shape Terraform documents for `terraform
output -json` (https://developer.hashicorp.com/terraform/cli/commands/output: one key per output,
each `{"sensitive": bool, "type": <the type as JSON>, "value": ...}`; a map(string) is typed
`["map", "string"]`, an object `["object", {attribute: type}]`).
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path
from typing import Any

import hcl2
import pytest
from hcl2.utils import SerializationOptions

from agents.validator.tf_module import literal
from tests.golden import GOLDEN, workspace_with
from tests.helpers import assert_one_line_error, migrator
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


# --- migrator handoff mgn: the IDs after terraform apply --------------------------------------------


def outputs_tf(folder: Path) -> dict[str, Any]:
    parsed = hcl2.loads(
        (folder / "outputs.tf").read_text(encoding="utf-8"),
        serialization_options=SerializationOptions(with_comments=False),
    )
    return {literal(name): body for entry in parsed["output"] for name, body in entry.items()}


def placeholders(folder: Path) -> dict[str, set[str]]:
    """Terraform output name -> the keys the wave's CSV cells name."""
    found: dict[str, set[str]] = {"subnet_ids": set(), "security_group_ids": set()}
    for row in rows((folder / mgn.CSV_FILE).read_text(encoding="utf-8")):
        for cell in row.values():
            hit = mgn.placeholder(cell)
            if hit:
                found[hit[0]].add(hit[1])
    return found


def terraform_output(wave: int, subnets: dict[str, str], groups: dict[str, str]) -> dict[str, Any]:
    """What `terraform output -json` prints for the wave's outputs.tf after apply (with -target on
    the security groups, the instance outputs are absent: they are not in this file either)."""
    return {
        "migration_wave": {"sensitive": False, "type": "number", "value": wave},
        "security_group_ids": {
            "sensitive": False,
            "type": ["object", {name: "string" for name in groups}],
            "value": groups,
        },
        "subnet_ids": {"sensitive": False, "type": ["map", "string"], "value": subnets},
    }


def fake_id(prefix: str, seed: str) -> str:
    return f"{prefix}-{abs(hash(seed)) % 16**17:017x}"


def test_the_waves_terraform_outputs_every_id_the_csv_names(demo_out: Path) -> None:
    """outputs.tf (validated by the Terraform core in `plan`) has a value for every placeholder."""
    for wave in (1, 2, 3):
        folder = demo_out / f"wave-{wave:02d}"
        outputs = outputs_tf(folder)
        assert literal(outputs["migration_wave"]["value"]) == wave
        assert literal(outputs["subnet_ids"]["value"]) == "${var.subnet_ids}"
        groups = {literal(k): literal(v) for k, v in outputs["security_group_ids"]["value"].items()}
        wanted = placeholders(folder)
        assert wanted["security_group_ids"] and wanted["security_group_ids"] <= set(groups)
        assert all(v == f"${{aws_security_group.{k}.id}}" for k, v in groups.items())
        variables = (folder / "variables.tf").read_text(encoding="utf-8")
        assert all(key in variables for key in wanted["subnet_ids"])  # the keys var.subnet_ids documents


def test_handoff_mgn_fills_every_placeholder_from_terraform_output(demo_out: Path, tmp_path: Path) -> None:
    folder = demo_out / "wave-01"
    wanted = placeholders(folder)
    subnets = {k: fake_id("subnet", k) for k in wanted["subnet_ids"]}
    groups = {k: fake_id("sg", k) for k in wanted["security_group_ids"]}
    output = tmp_path / "tf-output.json"
    output.write_text(json.dumps(terraform_output(1, subnets, groups), indent=2), encoding="utf-8")
    final = tmp_path / "final.csv"
    args = ("handoff", "mgn", "--wave", "1", "--terraform-output", str(output), "--out", str(demo_out.parent))
    result = migrator(*args, "-o", str(final))
    assert result.code == 0, result.stderr
    before = rows((folder / mgn.CSV_FILE).read_text(encoding="utf-8"))
    after = rows(final.read_text(encoding="utf-8"))
    assert len(after) == len(before) and f"wrote {len(before)} servers" in result.stderr
    for old, new in zip(before, after, strict=True):
        assert list(old) == list(new)
        for column, value in old.items():
            hit = mgn.placeholder(value)
            if hit is None:
                assert new[column] == value
            else:
                assert new[column] == (subnets if hit[0] == "subnet_ids" else groups)[hit[1]]
        assert new["mgn:launch:nic:0:subnet-id"].startswith("subnet-")
    assert "{{" not in final.read_text(encoding="utf-8")
    assert migrator(*args).stdout == final.read_text(encoding="utf-8")  # stdout without -o


def test_handoff_mgn_refuses_a_missing_or_unfilled_id(demo_out: Path, tmp_path: Path) -> None:
    folder = demo_out / "wave-02"
    wanted = placeholders(folder)
    subnets = {k: fake_id("subnet", k) for k in wanted["subnet_ids"]}
    groups = {k: fake_id("sg", k) for k in wanted["security_group_ids"]}
    base = ("handoff", "mgn", "--wave", "2", "--out", str(demo_out.parent), "--terraform-output")

    def run(document: Any, name: str) -> Any:
        path = tmp_path / name
        path.write_text(document if isinstance(document, str) else json.dumps(document), encoding="utf-8")
        return migrator(*base, str(path))

    missing_group = dict(groups)
    gone = sorted(missing_group).pop()
    del missing_group[gone]
    assert_one_line_error(
        run(terraform_output(2, subnets, missing_group), "a.json"), 2, "security_group_ids", "no ID for", gone
    )
    key = sorted(subnets)[0]
    unfilled = {**subnets, key: "subnet-REPLACE"}  # terraform.tfvars.example's value, applied as is
    assert_one_line_error(run(terraform_output(2, unfilled, groups), "b.json"), 2, "not an AWS ID", key)
    assert_one_line_error(run(terraform_output(3, subnets, groups), "c.json"), 2, "of wave 3, not 2")
    no_output = terraform_output(2, subnets, groups)
    del no_output["subnet_ids"]
    assert_one_line_error(run(no_output, "d.json"), 2, "no `subnet_ids` output")
    assert_one_line_error(run("Error: No outputs found", "e.json"), 2, "terraform output -json")
    assert_one_line_error(migrator(*base, str(tmp_path / "absent.json")), 2, "cannot read")
    other = ("handoff", "mgn", "--wave", "9", "--out", str(demo_out.parent), "--terraform-output")
    assert_one_line_error(migrator(*other, str(tmp_path / "a.json")), 6, "no MGN import file")


def test_handoff_mgn_fills_only_the_nic_columns(demo_out: Path, tmp_path: Path) -> None:
    """A tag whose inventory text looks like a placeholder stays as it is; a NIC cell holding
    something migrator cannot fill is refused, never left in a file said to be complete."""
    out = tmp_path / "migration"
    shutil.copytree(demo_out.parent, out)
    folder = out / demo_out.name / "wave-01"
    table = rows((folder / mgn.CSV_FILE).read_text(encoding="utf-8"))
    tag = next(c for c in table[0] if c.startswith("mgn:server:tag:") or c.startswith("mgn:launch:tag:"))
    wanted = placeholders(demo_out / "wave-01")
    group = sorted(wanted["security_group_ids"])[0]
    table[0][tag] = f"{{{{aws_security_group.{group}.id}}}}"  # what a hostile tag value could say
    write_rows(folder / mgn.CSV_FILE, table)
    subnets = {k: fake_id("subnet", k) for k in wanted["subnet_ids"]}
    groups = {k: fake_id("sg", k) for k in wanted["security_group_ids"]}
    output = tmp_path / "tf-output.json"
    output.write_text(json.dumps(terraform_output(1, subnets, groups)), encoding="utf-8")
    args = ("handoff", "mgn", "--wave", "1", "--terraform-output", str(output), "--out", str(out))
    result = migrator(*args)
    assert result.code == 0, result.stderr
    assert rows(result.stdout)[0][tag] == f"{{{{aws_security_group.{group}.id}}}}"
    table[0]["mgn:launch:nic:0:subnet-id"] = "{{var.something_else}}"
    write_rows(folder / mgn.CSV_FILE, table)
    assert_one_line_error(migrator(*args), 2, "mgn:launch:nic:0:subnet-id", "not an ID migrator can fill")


def write_rows(path: Path, table: list[dict[str, str]]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(table[0]), lineterminator="\n")
    writer.writeheader()
    writer.writerows(table)
    path.write_text(buffer.getvalue(), encoding="utf-8")
