"""AWS Application Migration Service (MGN) hand-off for the terraform-aws target (docs/handoff.md).

Per wave, `mgn-import.csv`: one row per VM in the columns of MGN's import feature (servers,
application, wave, launch template attributes), filled from the same values the wave's Terraform
uses (instance type, subnet key, security group, tags), and `mgn-post-launch.json`: the checks
of the runbook's verification step, to attach as MGN post-launch actions.

The column names are AWS's, recorded with their source in DOCUMENTED_COLUMNS below; a test reads
every emitted header back against that list. Values migrator cannot know (subnet IDs, security
group IDs: Terraform variables and resources) are written as `{{...}}` placeholders naming
where the value comes from, so an import fails loudly until they are filled in;
`migrator handoff mgn` fills them from the wave's `terraform output -json`.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from transpilers.escape import csv_cell, one_line
from transpilers.model import VMInput, WaveInput

CSV_FILE, POST_LAUNCH_FILE = "mgn-import.csv", "mgn-post-launch.json"
# The cells migrator cannot fill, and the `terraform output` (terraform_aws._outputs) that holds
# each value after apply: `migrator handoff mgn` replaces them (migrator/app/handoff.py).
SUBNET_CELL = re.compile(r"\{\{var\.subnet_ids\[(?P<key>[^\]]*)\]\}\}")
GROUP_CELL = re.compile(r"\{\{aws_security_group\.(?P<key>[A-Za-z0-9_-]+)\.id\}\}")
PLACEHOLDERS = (("subnet_ids", SUBNET_CELL), ("security_group_ids", GROUP_CELL))
# The shapes of the IDs AWS gives (8 hex digits in old accounts, 17 since 2018).
ID_SHAPES = {
    "subnet_ids": re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
    "security_group_ids": re.compile(r"sg-(?:[0-9a-f]{8}|[0-9a-f]{17})"),
}


def placeholder(cell: str) -> tuple[str, str] | None:
    """(terraform output name, key) when the cell is one of migrator's {{...}} placeholders."""
    for output, pattern in PLACEHOLDERS:
        match = pattern.fullmatch(cell)
        if match:
            return output, match["key"]
    return None


# The import file's parameters as AWS documents them. Provenance (read 2026-12-07):
# - https://docs.aws.amazon.com/mgn/latest/ug/import-main.html, "Import parameters" (the stored
#   copy was cut after mgn:launch:nic:0:network-interface-id);
# - the same user guide's "Exporting your data inventory" page, whose parameter table lists the
#   same columns in full (the file export writes is the file import reads), plus export-only ids
#   and states (mgn:app:id, mgn:server:id, mgn:wave:id, lifecycle and replication states) that
#   migrator never writes.
# `<key>`, `<n>` and `<device>` stand for the tag key, the 0-based index and the volume name.
DOCUMENTED_COLUMNS = (
    "mgn:account-id",
    "mgn:region",
    "mgn:app:name",
    "mgn:app:description",
    "mgn:app:tag:<key>",
    "mgn:wave:name",
    "mgn:wave:description",
    "mgn:wave:tag:<key>",
    "mgn:server:user-provided-id",
    "mgn:server:platform",
    "mgn:server:fqdn-for-action-framework",
    "mgn:server:tag:<key>",
    "mgn:launch:instance-type",
    "mgn:launch:iam-instance-profile:name",
    "mgn:launch:nic:<n>:network-interface-id",
    "mgn:launch:nic:<n>:subnet-id",
    "mgn:launch:nic:<n>:security-group-id:<n>",
    "mgn:launch:nic:<n>:private-ip:<n>",
    "mgn:launch:placement:tenancy",
    "mgn:launch:placement:host-id",
    "mgn:launch:placement:operating-system-licensing",
    "mgn:launch:tag:instance:<key>",
    "mgn:launch:volume:<device>:type",
    "mgn:launch:transfer-server-tags",
)


def documented(column: str) -> bool:
    """Whether a header is one of DOCUMENTED_COLUMNS (placeholders matched by their shape)."""
    for pattern in DOCUMENTED_COLUMNS:
        regex = re.escape(pattern).replace(re.escape("<n>"), r"\d+")
        regex = regex.replace(re.escape("<key>"), r"[^:]+(?::[^:]+)*").replace(re.escape("<device>"), r".+")
        if re.fullmatch(regex, column):
            return True
    return False


def _platform(vm: VMInput) -> str:
    return "WINDOWS" if vm.sizing.get("os_family") == "windows" else "LINUX"


def _fqdn(vm: VMInput) -> str:
    host = str(vm.record.get("hostname") or "")
    return one_line(host) if "." in host else ""


def server_row(
    wave: WaveInput,
    vm: VMInput,
    region: str,
    tags: dict[str, str],
    subnets: list[str],
    group: str,
) -> dict[str, str]:
    """One VM's row: `tags` are its Terraform tags, `subnets` its NICs' `var.subnet_ids` keys in
    order, `group` the name of its Terraform security group resource."""
    record = vm.record
    row = {
        "mgn:region": region,
        "mgn:wave:name": one_line(f"wave-{wave.number:02d} {wave.name}", 256),
        "mgn:wave:description": f"migrator plan wave {wave.number}",
        "mgn:wave:tag:migration-wave": str(wave.number),
        "mgn:app:name": one_line(vm.app or "", 256),
        "mgn:server:user-provided-id": one_line(
            str(record.get("instance_uuid") or record.get("moref") or "")
        ),
        "mgn:server:platform": _platform(vm),
        "mgn:server:fqdn-for-action-framework": _fqdn(vm),
        "mgn:launch:instance-type": str(vm.sizing["aws"]["instance_type"]),
        "mgn:launch:placement:tenancy": "default",
    }
    for index, key in enumerate(subnets):
        row[f"mgn:launch:nic:{index}:subnet-id"] = f"{{{{var.subnet_ids[{key}]}}}}"
        row[f"mgn:launch:nic:{index}:security-group-id:0"] = f"{{{{aws_security_group.{group}.id}}}}"
    for key, value in tags.items():
        row[f"mgn:server:tag:{key}"] = value
        row[f"mgn:launch:tag:instance:{key}"] = value
    return row


def import_csv(rows: list[dict[str, str]]) -> str:
    """The CSV: the union of the rows' columns in first-seen order; every cell escaped."""
    columns: list[str] = []
    for row in rows:
        columns += [c for c in row if c not in columns]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_cell(row.get(c, "")) for c in columns])
    return out.getvalue()


def port_checks(wave: WaveInput, vm: VMInput) -> list[str]:
    """The runbook's verification, run on the launched instance: every port its clients were
    observed using is listening."""
    ports = {p for t in wave.traffic if t.server == vm.name for p in t.ports}
    tcp = {p.split("/", 1)[1] for p in ports if p.startswith("tcp/")}
    numbers = sorted((n for n in tcp if n.isdigit()), key=int)
    if _platform(vm) == "WINDOWS":
        listening = "Get-NetTCPConnection -State Listen -ErrorAction SilentlyContinue -LocalPort"
        return [f"if (-not ({listening} {n})) {{ exit 1 }}" for n in numbers]
    return [f"ss -ltnH 'sport = :{n}' | grep -q ." for n in numbers]


def post_launch(checks: dict[str, list[str]], platforms: dict[str, str]) -> str:
    """Per VM, the runbook's verification commands as an MGN post-launch custom action (an SSM
    Run Command document); migrator writes them, a human attaches them in MGN."""
    actions: list[dict[str, Any]] = []
    for vm in sorted(checks):
        windows = platforms[vm] == "WINDOWS"
        actions.append(
            {
                "server": one_line(vm),
                "actionName": "migrator-verify-ports",
                "ssmDocumentName": "AWS-RunPowerShellScript" if windows else "AWS-RunShellScript",
                "mustSucceedForCutover": True,
                "commands": checks[vm],
            }
        )
    return json.dumps({"postLaunchActions": actions}, indent=2, ensure_ascii=False) + "\n"
