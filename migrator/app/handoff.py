"""The MGN import file with real IDs: `migrator handoff mgn` (docs/handoff.md).

`migrator plan --target terraform-aws` writes `mgn-import.csv` with `{{var.subnet_ids[KEY]}}` and
`{{aws_security_group.NAME.id}}` cells, because subnet and security group IDs exist only once the
wave's Terraform is applied. This fills them from that wave's `terraform output -json` (the
`subnet_ids` and `security_group_ids` outputs its outputs.tf declares) and refuses, on one line,
when an ID is missing or is not an ID (a `subnet-REPLACE` left from terraform.tfvars.example).
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from migrator.app.generation import wave_folder
from migrator.errors import InputFileError, NotFound, UsageError
from migrator.input_files import read_input
from transpilers import mgn
from transpilers.escape import csv_cell, one_line

TARGET = "terraform-aws"


@dataclass(frozen=True)
class MgnHandoffRequest:
    wave: int
    terraform_output: Path  # `terraform output -json` of the wave's root module, after apply
    out: Path = Path("migration")  # the folder `migrator plan --out` wrote


@dataclass(frozen=True)
class MgnHandoff:
    csv_text: str  # the import file, every placeholder replaced
    source: Path  # the mgn-import.csv it was made from
    rows: int
    filled: int  # cells replaced


_ID_COLUMN = re.compile(r"mgn:launch:nic:\d+:(subnet-id|security-group-id:\d+)")


def mgn_import(request: MgnHandoffRequest) -> MgnHandoff:
    """The wave's MGN import file with the IDs of its applied Terraform."""
    if request.wave < 1:
        raise UsageError("{wave} is a wave number (1 or more)", field="wave")
    source = wave_folder(request.out / TARGET, request.wave) / mgn.CSV_FILE
    if not source.is_file():
        raise NotFound(
            f"no MGN import file {source}: run `migrator plan --target {TARGET} --out {request.out}` first"
        )
    outputs = _terraform_outputs(request.terraform_output, request.wave)
    rows = list(csv.reader(io.StringIO(source.read_text(encoding="utf-8"), newline="")))
    filled = 0
    # Only the NIC columns carry migrator's placeholders: a tag or name cell is inventory text,
    # which may look like one and must stay as it is.
    columns = [i for i, name in enumerate(rows[0] if rows else []) if _ID_COLUMN.fullmatch(name)]
    for row in rows[1:]:
        for index in columns:
            cell = row[index] if index < len(row) else ""
            found = mgn.placeholder(cell)
            if found is not None:
                row[index] = csv_cell(_id(outputs, *found, request.terraform_output))
                filled += 1
            elif "{{" in cell:
                raise InputFileError(
                    f"{source}: {rows[0][index]} holds {cell!r}, not an ID migrator can fill"
                )
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)  # cells already escaped when planned
    return MgnHandoff(out.getvalue(), source, max(len(rows) - 1, 0), filled)


def _terraform_outputs(path: Path, wave: int) -> dict[str, Any]:
    """The outputs of `terraform output -json`: {name: {"value": ..., "type": ..., "sensitive": ...}}."""
    try:
        document = json.loads(read_input(path))
    except (json.JSONDecodeError, UnicodeDecodeError):
        document = None
    if not isinstance(document, dict) or not all(
        isinstance(v, dict) and "value" in v for v in document.values()
    ):
        raise InputFileError(f"{path} is not the JSON `terraform output -json` writes")
    built_for = document.get("migration_wave", {}).get("value")
    if built_for is not None and built_for != wave:
        raise InputFileError(
            f"{path} is the Terraform output of wave {one_line(str(built_for), 20)}, not {wave}"
        )
    return document


def _id(outputs: dict[str, Any], output: str, key: str, path: Path) -> str:
    """The ID the placeholder names, or one line saying what is missing."""
    values = outputs.get(output, {}).get("value")
    if not isinstance(values, dict):
        raise InputFileError(
            f"{path} has no `{output}` output: regenerate the wave (`migrator plan --target {TARGET}`), "
            "apply its Terraform and run `terraform output -json` again"
        )
    value = values.get(key)
    if not isinstance(value, str) or not value:
        raise InputFileError(
            f"{path}: `{output}` has no ID for {one_line(key, 80)}: apply the wave's Terraform first"
        )
    if not mgn.ID_SHAPES[output].fullmatch(value):
        raise InputFileError(
            f"{path}: `{output}` gives {one_line(value, 40)} for {one_line(key, 80)}, which is not an AWS ID "
            "(fill in terraform.tfvars and apply)"
        )
    return value
