"""Reviewer edits: a human commit on a PR branch (real git, a clone, a push) is read back as typed
plan edits, and the round trip holds for every kind: applying the extracted edits to the plan
model and rendering gives the reviewer's tree back. What no kind says is kept as a free edit."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from migrator.app.generation import planned_inputs, select_waves
from migrator.app.workspace import Workspace
from migrator.review.reviewer_edits import differences, hcl_resources, yaml_resources
from tests.helpers import migrator
from tests.test_prs import generated, git, land, landed, reviewer_commit, ws  # noqa: F401 - fixtures
from transpilers.edits import apply_edits
from transpilers.registry import get, target_options
from waves.edits import KINDS, parse_edit

OPTIONS: dict[str, dict[str, object]] = {
    "terraform-aws": {},
    "kubevirt": {"vddk_url": "https://vcenter.example/sdk", "vddk_thumbprint": "AA:BB:CC", "executor": "cdi"},
    "terraform-azure": {},
    "terraform-google": {},
    "terraform-openstack": {},
}
RULE = "aws_vpc_security_group_ingress_rule"
NEW_RULE = """
resource "aws_vpc_security_group_ingress_rule" "reporting" {
  security_group_id            = aws_security_group.crm_db.id
  description                  = "reporting jobs"
  ip_protocol                  = "tcp"
  from_port                    = 5432
  to_port                      = 5433
  referenced_security_group_id = aws_security_group.crm_app.id
}
"""


ZONE_VARIABLE = """
variable "availability_zone" {
  type        = string
  description = "Availability zone of the wave's instances (plan edit); every subnet must be in it."
  default     = "us-east-1b"
}
"""


SPREAD_GROUP = """resource "aws_placement_group" "edit_crm_pair" {
  name     = "wave3-edit-crm-pair"
  strategy = "spread"
  tags = {
    source-rule    = "edit-crm-pair"
    migration-wave = "3"
  }
}

"""
REQUIRED = "          requiredDuringSchedulingIgnoredDuringExecution:\n"
SPREAD_TERM = """          - labelSelector:
              matchLabels:
                spread.migrator.io/edit-db-pair: 'true'
            topologyKey: kubernetes.io/hostname
"""
SPREAD_AFFINITY = "      affinity:\n        podAntiAffinity:\n" + REQUIRED + SPREAD_TERM


def joins(ident: str, group: str) -> Callable[[str], str]:
    """The instance `ident` joins placement group `group` (and is tagged with its set), as migrator
    writes an instance of a spread set."""

    def change(text: str) -> str:
        start = text.index(f'resource "aws_instance" "{ident}" {{')
        end = text.index("\n}\n", start)
        block = text[start:end]
        block = re.sub(
            r"(  vpc_security_group_ids = .*\n)",
            rf"\1  placement_group        = aws_placement_group.{group}.name\n",
            block,
        )
        block = block.replace(
            "    tier           = ",
            f'    migrator-spread-set = "{group.replace("_", "-")}"\n    tier           = ',
        )
        return text[:start] + block + text[end:]

    return change


def both(*changes: Callable[[str], str]) -> Callable[[str], str]:
    """Several changes to one file, in order."""

    def change(text: str) -> str:
        for one in changes:
            text = one(text)
        return text

    return change


def sub(old: str, new: str, count: int = 1) -> Callable[[str], str]:
    """A reviewer's text change: replace `old` (which must be there) `count` times (0: all)."""

    def change(text: str) -> str:
        assert old in text, old
        return text.replace(old, new, count if count else -1)

    return change


def resub(pattern: str, new: str) -> Callable[[str], str]:
    """A reviewer's change at every line matching `pattern` (a multi-line regex), kept indented."""

    def change(text: str) -> str:
        changed, count = re.subn(pattern, new, text, flags=re.M)
        assert count, pattern
        return changed

    return change


def without_rule(name: str) -> Callable[[str], str]:
    def change(text: str) -> str:
        block = re.search(rf'resource "{RULE}" "{name}" {{\n.*?\n}}\n\n', text, re.S)
        assert block is not None
        return text.replace(block.group(0), "")

    return change


def human_change(root: Path, tmp: Path, branch: str, changes: dict[str, Callable[[str], str]]) -> str:
    """A reviewer edits files of the branch in a clone, commits and pushes; the commit's sha."""
    repo = root / "plans.git"
    texts = {rel: change(git("show", f"{branch}:{rel}", cwd=repo) + "\n") for rel, change in changes.items()}
    return reviewer_commit(str(repo), branch, tmp, texts, "Reviewer's change")


def reviewed(
    root: Path, tmp: Path, target: str, changes: dict[str, Callable[[str], str]]
) -> tuple[dict[str, Any], str, list[dict[str, Any]]]:
    """Wave 3 landed for `target`, a reviewer's pushed commit changing files of its folder (by
    name), and the edits extracted from the branch: the landing, the commit's sha, the edits."""
    if target not in ("terraform-aws", "kubevirt"):  # the shared workspace generated those two
        result = migrator(
            "plan", "--target", target, "--wave", "3", "--out", str(tmp / "out"), workspace=root
        )
        assert result.code == 0, result.stderr
    row = landed(land(root, target, 3))
    folder = f"{target}/wave-03"
    sha = human_change(root, tmp, row["branch"], {f"{folder}/{n}": c for n, c in changes.items()})
    return row, sha, extract(root, row["number"])


def extract(root: Path, number: int) -> list[dict[str, Any]]:
    result = migrator("edits", "extract", "--pr", str(number), "--format", "json", workspace=root)
    assert result.code == 0, result.stderr
    rows: list[dict[str, Any]] = result.json()
    return rows


def rendered(root: Path, target: str, wave: int, edits: list[dict[str, Any]]) -> dict[str, str]:
    """The wave rendered from the plan model with the extracted edits applied (the round trip)."""
    app_ws = Workspace.open(root)
    [wave_input] = select_waves(planned_inputs(app_ws, None).waves, wave)
    applied = apply_edits(wave_input, target_options(OPTIONS[target]), [parse_edit(e) for e in edits])
    assert applied.refused == {}
    return get(target).render(applied.wave, applied.options).files


def parsed(name: str, text: str) -> Any:
    """A file's parse, ingress rules as a set of what they allow (their address is a name only)."""
    if name.endswith(".tf"):
        resources = hcl_resources(text.encode())
        assert resources is not None
        rules = {
            (
                b["security_group_id"],
                b["ip_protocol"],
                b["from_port"],
                b["to_port"],
                b.get("referenced_security_group_id"),
            )
            for a, b in resources.items()
            if a.startswith(RULE + ".")
        }
        return {a: b for a, b in resources.items() if not a.startswith(RULE + ".")}, rules
    return yaml_resources(text.encode())


def branch_text(root: Path, branch: str, rel: str) -> str:
    return git("show", f"{branch}:{rel}", cwd=root / "plans.git") + "\n"


# Changes a reviewer made in migrator's own layout (alignment, order), so the round trip is exact.
CANONICAL = {
    "instance-type",
    "instance-family-is-instance-type",
    "volume",
    "tags",
    "region",
    "port-rule-remove",
    "boot-bus",
    "nic-model",
}
CANONICAL |= {"volume-size", "labels", "cpu-memory", "availability-zone"}
CANONICAL |= {"network", "network-multus", "anti-affinity-podantiaffinity"}
CRM_DB_DISK1 = 'size              = 1000\n  type              = "gp3"\n'
CASES: list[tuple[str, str, dict[str, Callable[[str], str]], list[dict[str, Any]]]] = [
    (
        "instance-type",
        "terraform-aws",
        {"main.tf": sub('instance_type          = "r6i.2xlarge"', 'instance_type          = "r6i.4xlarge"')},
        [{"kind": "instance-type", "vm": "crm-db-01", "instance_type": "r6i.4xlarge"}],
    ),
    (  # the text shows a type, never a family: a change of family reads as the type it names
        "instance-family-is-instance-type",
        "terraform-aws",
        {"main.tf": sub('instance_type          = "r6i.2xlarge"', 'instance_type          = "m6i.2xlarge"')},
        [{"kind": "instance-type", "vm": "crm-db-01", "instance_type": "m6i.2xlarge"}],
    ),
    (
        "volume",
        "terraform-aws",
        {
            "main.tf": sub(
                CRM_DB_DISK1,
                'size              = 1200\n  type              = "io2"\n  iops              = 8000\n',
            )
        },
        [
            {
                "kind": "volume",
                "vm": "crm-db-01",
                "disk": "disk-202-1",
                "type": "io2",
                "size_gb": 1200,
                "iops": 8000,
            }
        ],
    ),
    (
        "tags",
        "terraform-aws",
        {
            "main.tf": sub(
                '    tier           = "web"\n  }\n}\n\nresource "aws_instance" "shop_app_01"',
                '    tier           = "web"\n    owner          = "team-a"\n'
                '  }\n}\n\nresource "aws_instance" "shop_app_01"',
            )
        },
        [{"kind": "tags", "vm": "crm-web-01", "tags": {"owner": "team-a"}}],
    ),
    (
        "region",
        "terraform-aws",
        {"variables.tf": sub('default     = "us-east-1"', 'default     = "eu-central-1"')},
        [{"kind": "region", "wave": 3, "region": "eu-central-1"}],
    ),
    (
        "port-rule-add",
        "terraform-aws",
        {"main.tf": lambda text: text + NEW_RULE},
        [
            {
                "kind": "port-rule",
                "action": "add",
                "wave": 3,
                "group": "crm-db",
                "peer_group": "crm-app",
                "protocol": "tcp",
                "from_port": 5432,
                "to_port": 5433,
            }
        ],
    ),
    (
        "port-rule-remove",
        "terraform-aws",
        {"main.tf": without_rule("crm_db_tcp_1433_crm_app")},
        [
            {
                "kind": "port-rule",
                "action": "remove",
                "wave": 3,
                "group": "crm-db",
                "peer_group": "crm-app",
                "protocol": "tcp",
                "from_port": 1433,
                "to_port": 1433,
            }
        ],
    ),
    (
        "boot-bus",
        "kubevirt",
        {"vm-shop-db-01.yaml": sub("bus: sata", "bus: scsi")},
        [{"kind": "boot-bus", "vm": "shop-db-01", "bus": "scsi"}],
    ),
    (
        "nic-model",
        "kubevirt",
        {"vm-shop-db-01.yaml": sub("bridge: {}\n", "bridge: {}\n            model: e1000e\n")},
        [{"kind": "nic-model", "vm": "shop-db-01", "model": "e1000e"}],
    ),
    (
        "storage-class",
        "kubevirt",
        {
            "vm-shop-db-01.yaml": sub(
                "  storage:\n    resources:", "  storage:\n    storageClassName: fast-ssd\n    resources:", 0
            )
        },
        [{"kind": "storage-class", "vm": "shop-db-01", "storage_class": "fast-ssd"}],
    ),
    (
        "volume-size",
        "kubevirt",
        {"vm-shop-db-01.yaml": sub("storage: 500Gi", "storage: 640Gi")},
        [{"kind": "volume", "vm": "shop-db-01", "disk": "disk-202-1", "size_gb": 640}],
    ),
    (
        "cpu-memory",
        "kubevirt",
        {
            "vm-shop-db-01.yaml": both(
                sub("sockets: 3\n          cores: 1\n", "sockets: 1\n          cores: 4\n"),
                sub("cpu: 3000m", "cpu: 4000m"),
                sub("18816Mi", "32768Mi", 0),
            )
        },
        [{"kind": "cpu-memory", "vm": "shop-db-01", "vcpu": 4, "memory_mb": 32768}],
    ),
    (
        "availability-zone",
        "terraform-aws",
        {
            "variables.tf": lambda text: text + ZONE_VARIABLE,
            "main.tf": resub(
                r"^(  vpc_security_group_ids = .*\n)", r"\1  availability_zone      = var.availability_zone\n"
            ),
        },
        [{"kind": "availability-zone", "wave": 3, "zone": "us-east-1b"}],
    ),
    (
        "network",
        "terraform-aws",
        {
            "main.tf": sub(
                'subnet_id              = var.subnet_ids["db-vlan130"]',
                'subnet_id              = var.subnet_ids["db-private"]',
            )
        },
        [{"kind": "network", "vm": "crm-db-01", "nic": "ethernet-0", "network": "db-private"}],
    ),
    (
        "network-multus",
        "kubevirt",
        {"vm-crm-db-01.yaml": sub("networkName: db-vlan130", "networkName: db-private")},
        [{"kind": "network", "vm": "crm-db-01", "nic": "ethernet-0", "network": "db-private"}],
    ),
    (
        "anti-affinity-placement-group",
        "terraform-aws",
        {
            "main.tf": both(
                sub(
                    'resource "aws_placement_group" "shop_db_separate"',
                    SPREAD_GROUP + 'resource "aws_placement_group" "shop_db_separate"',
                ),
                joins("crm_app_01", "edit_crm_pair"),
                joins("crm_db_01", "edit_crm_pair"),
            )
        },
        [{"kind": "anti-affinity", "wave": 3, "name": "crm-pair", "vms": ["crm-app-01", "crm-db-01"]}],
    ),
    (  # one VM had no affinity, the other has its replica and DRS terms: the set's term comes first
        "anti-affinity-podantiaffinity",
        "kubevirt",
        {
            "vm-crm-db-01.yaml": both(
                resub(
                    r"^( {8})migrator.io/vm: crm-db-01\n",
                    r"\1migrator.io/vm: crm-db-01\n\1spread.migrator.io/edit-db-pair: 'true'\n",
                ),
                lambda text: text + SPREAD_AFFINITY,
            ),
            "vm-shop-db-01.yaml": both(
                resub(
                    r"^( {8})migrator.io/vm: shop-db-01\n",
                    r"\1migrator.io/vm: shop-db-01\n\1spread.migrator.io/edit-db-pair: 'true'\n",
                ),
                sub(
                    REQUIRED,
                    REQUIRED + SPREAD_TERM,
                ),
            ),
        },
        [{"kind": "anti-affinity", "wave": 3, "name": "db-pair", "vms": ["crm-db-01", "shop-db-01"]}],
    ),
    (
        "labels",
        "kubevirt",
        {"vm-shop-db-01.yaml": resub(r"^( +)tier: db\n", r"\1tier: db\n\1owner: team-a\n")},
        [{"kind": "tags", "vm": "shop-db-01", "tags": {"owner": "team-a"}}],
    ),
]


CRM_DB = {"vm": "crm-db-01"}
OS_DISK = '"crm-db-01-osdisk"\n    caching                = "ReadWrite"\n    storage_account_type   = '
CASES += [
    (
        "vm-size-azure",
        "terraform-azure",
        {
            "main.tf": both(
                sub(
                    'size                  = "Standard_E8s_v5"', 'size                  = "Standard_E16s_v5"'
                ),
                sub(OS_DISK + '"Premium_LRS"', OS_DISK + '"StandardSSD_LRS"'),
            )
        },
        [
            {"kind": "vm-size", **CRM_DB, "cloud": "azure", "size": "Standard_E16s_v5"},
            {
                "kind": "disk-type",
                **CRM_DB,
                "disk": "disk-202-0",
                "cloud": "azure",
                "type": "StandardSSD_LRS",
            },
        ],
    ),
    (  # Premium SSD v2 -> Premium SSD: the attachment's caching follows the type, as migrator writes it
        "disk-type-azure",
        "terraform-azure",
        {
            "main.tf": both(
                sub('storage_account_type   = "PremiumV2_LRS"', 'storage_account_type   = "Premium_LRS"'),
                sub(
                    'lun                = 0\n  caching            = "None"',
                    'lun                = 0\n  caching            = "ReadOnly"',
                ),
            )
        },
        [{"kind": "disk-type", **CRM_DB, "disk": "disk-202-1", "cloud": "azure", "type": "Premium_LRS"}],
    ),
    (
        "vm-size-google",
        "terraform-google",
        {
            "main.tf": both(
                sub('machine_type = "e2-highmem-8"', 'machine_type = "n2-highmem-8"'),
                sub(
                    'name = "crm-db-01-disk1"\n  type = "pd-ssd"',
                    'name = "crm-db-01-disk1"\n  type = "pd-balanced"',
                ),
            )
        },
        [
            {"kind": "disk-type", **CRM_DB, "disk": "disk-202-1", "cloud": "gcp", "type": "pd-balanced"},
            {"kind": "vm-size", **CRM_DB, "cloud": "gcp", "size": "n2-highmem-8"},
        ],
    ),
    (
        "vm-size-openstack",
        "terraform-openstack",
        {
            "main.tf": both(
                sub('flavor_name       = "r1.2xlarge"', 'flavor_name       = "r1.4xlarge"'),
                sub(
                    "size              = 1000\n  volume_type       = var.volume_type",
                    'size              = 1000\n  volume_type       = "ceph-ssd"',
                ),
            )
        },
        [
            {"kind": "disk-type", **CRM_DB, "disk": "disk-202-1", "cloud": "openstack", "type": "ceph-ssd"},
            {"kind": "vm-size", **CRM_DB, "cloud": "openstack", "size": "r1.4xlarge"},
        ],
    ),
]
CANONICAL |= {"vm-size-azure", "disk-type-azure", "vm-size-google", "vm-size-openstack"}


@pytest.mark.parametrize(("kind", "target", "changes", "expected"), CASES, ids=[c[0] for c in CASES])
def test_a_reviewers_commit_becomes_the_edit_that_renders_it_back(
    ws: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
    kind: str,
    target: str,
    changes: dict[str, Callable[[str], str]],
    expected: list[dict[str, Any]],
) -> None:
    row, sha, found = reviewed(ws, tmp_path, target, changes)
    folder = f"{target}/wave-03"
    assert [r["edit"] for r in found] == [parse_edit(e).model_dump(mode="json") for e in expected]
    assert [(r["status"], r["source"], r["who"], r["pr"], r["conversation"]) for r in found] == [
        ("applied", "reviewer", "Rita Reviewer", row["number"], f"commit {sha}")
    ] * len(expected)
    again = rendered(ws, target, 3, [r["edit"] for r in found])
    for name in changes:
        reviewer = branch_text(ws, row["branch"], f"{folder}/{name}")
        mine, theirs = parsed(name, again[name]), parsed(name, reviewer)
        assert mine == theirs, (name, differences(mine, theirs))
        if kind in CANONICAL:  # the reviewer wrote what migrator writes: the very same bytes
            assert again[name] == reviewer, name
    assert extract(ws, row["number"]) == []  # the same change is not stored twice
    listed = migrator("edits", "list", "--format", "json", workspace=ws).json()
    assert [r["id"] for r in listed if r["source"] == "reviewer"] == [r["id"] for r in found]


HOSTILE = "<img src=x onerror=alert(1)>|`x`"


def test_what_no_kind_says_is_a_free_edit_listed_in_plan_md_and_never_applied(
    ws: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    hop_limit = sub("http_put_response_hop_limit = 1", "http_put_response_hop_limit = 2")
    unknown_type = sub('instance_type          = "r6i.2xlarge"', 'instance_type          = "x9.huge"')
    hostile_tag = sub(
        '    tier           = "web"\n  }\n}\n\nresource "aws_instance" "shop_app_01"',
        f'    tier           = "web"\n    owner          = "{HOSTILE}"\n'
        '  }\n}\n\nresource "aws_instance" "shop_app_01"',
    )
    change = both(hostile_tag, hop_limit, unknown_type)
    row, sha, found = reviewed(ws, tmp_path, "terraform-aws", {"main.tf": change})
    common = {"version": 1, "kind": "free", "target": "terraform-aws", "wave": 3, "file": "main.tf"}
    assert [r["edit"] for r in found] == [
        {
            **common,
            "address": "aws_instance.crm_app_01",
            "path": "metadata_options.http_put_response_hop_limit",
            "old": "1",
            "new": "2",
        },
        {
            **common,
            "address": "aws_instance.crm_web_01",
            "path": "tags.owner",
            "old": None,
            "new": f'"{HOSTILE}"',
        },
        {  # not in the instance catalogue: kept as written, where it was written
            **common,
            "address": "aws_instance.crm_db_01",
            "path": "instance_type",
            "old": '"r6i.2xlarge"',
            "new": '"x9.huge"',
        },
    ]
    assert {(r["status"], r["conversation"]) for r in found} == {("applied", f"commit {sha}")}
    generated_tf = branch_text(ws, f"{row['branch']}~1", "terraform-aws/wave-03/main.tf")
    again = rendered(ws, "terraform-aws", 3, [])  # a free edit is never handed to a transpiler
    assert parsed("main.tf", again["main.tf"]) == parsed("main.tf", generated_tf)
    out = tmp_path / "out"
    result = migrator("plan", "--target", "terraform-aws", "--wave", "3", "--out", str(out), workspace=ws)
    assert result.code == 0, result.stderr
    plan_md = (out / "terraform-aws" / "wave-03" / "PLAN.md").read_text(encoding="utf-8")
    change = "wave 3: free edit (not applied): main.tf aws_instance.crm_web_01 tags.owner added"
    expected = f'| {found[1]["id"]} | ``{change} "<img src=x onerror=alert(1)>\\|`x`"`` |'
    assert expected in plan_md
    assert plan_md.count("<img") == 1  # only inside that code span, where it is text
    assert "main.tf aws_instance.crm_app_01 metadata_options.http_put_response_hop_limit 1 -> 2" in plan_md
    assert "http_put_response_hop_limit = 1" in (out / "terraform-aws" / "wave-03" / "main.tf").read_text()


def test_pr_approve_stores_the_reviewers_edits_once_and_pr_diff_adds_none(
    ws: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    row = landed(land(ws, "kubevirt", 3))
    change = {"kubevirt/wave-03/vm-shop-db-01.yaml": sub("bus: sata", "bus: virtio")}
    sha = human_change(ws, tmp_path, row["branch"], change)
    approved = migrator("pr", "approve", str(row["number"]), "--by", "alice", workspace=ws)
    assert approved.code == 0, approved.stderr
    assert f"pull request #{row['number']}: 1 reviewer edit(s) stored" in approved.stderr
    assert migrator("pr", "diff", str(row["number"]), workspace=ws).code == 0
    listed = migrator("edits", "list", "--format", "json", workspace=ws).json()
    assert [(r["change"], r["who"], r["pr"], r["conversation"]) for r in listed] == [
        ("shop-db-01: boot disk on virtio", "Rita Reviewer", row["number"], f"commit {sha}")
    ]
    assert extract(ws, row["number"]) == []


def test_every_manifest_moved_to_one_namespace_is_a_namespace_edit_that_renders_back(
    ws: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    row = landed(land(ws, "kubevirt", 3))
    listing = git("ls-tree", "-r", "--name-only", row["branch"], "kubevirt/wave-03/", cwd=ws / "plans.git")
    manifests = [f for f in listing.splitlines() if f.endswith(".yaml")]
    assert "kubevirt/wave-03/networks.yaml" in manifests and len(manifests) == 10
    move = sub("namespace: vm-migration\n", "namespace: shop-cutover\n", 0)
    sha = human_change(ws, tmp_path, row["branch"], dict.fromkeys(manifests, move))
    found = extract(ws, row["number"])
    assert [(r["edit"], r["conversation"]) for r in found] == [
        ({"version": 1, "kind": "namespace", "wave": 3, "namespace": "shop-cutover"}, f"commit {sha}")
    ]
    again = rendered(ws, "kubevirt", 3, [r["edit"] for r in found])
    for rel in manifests:
        name = rel.rsplit("/", 1)[1]
        assert parsed(name, again[name]) == parsed(name, branch_text(ws, row["branch"], rel)), name


# Kinds with no text a reviewer could change: a family shows as its instance type (the case
# "instance-family-is-instance-type" above), a cutover window lives in PLAN.md/REPORT.md (below),
# and a VM's wave is the planner's (`waves pin`, tests/test_edits_cli.py).
NO_TEXT_FORM = {"instance-family": "instance-type", "cutover-window": None, "wave-pin": None}
NO_TEXT_FORM["size-family"] = "vm-size"  # Azure and Google show a size, never its family


def test_every_edit_kind_has_a_round_trip_case_or_is_documented_as_having_no_text_form() -> None:
    covered = {e["kind"] for _, _, _, expected in CASES for e in expected}
    covered.add("namespace")  # every manifest at once: its own round trip, below
    assert covered | set(NO_TEXT_FORM) == set(KINDS), set(KINDS) - covered - set(NO_TEXT_FORM)
    assert covered.isdisjoint({k for k, reads_as in NO_TEXT_FORM.items() if reads_as is None})
    docs = " ".join((Path(__file__).parents[1] / "docs" / "edits.md").read_text(encoding="utf-8").split())
    for kind in NO_TEXT_FORM:
        assert f"`{kind}` has no text form" in docs, kind


def test_a_reviewers_change_to_the_cutover_window_in_plan_md_is_not_an_edit(
    ws: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    window = {
        "kind": "cutover-window",
        "wave": 3,
        "start": "2026-12-12T22:00:00Z",
        "end": "2026-12-13T02:30:00Z",
    }
    (tmp_path / "window.json").write_text(json.dumps(window), encoding="utf-8")
    added = migrator("edits", "add", str(tmp_path / "window.json"), "--who", "alice", workspace=ws)
    assert added.code == 0, added.stderr
    out = tmp_path / "out"
    assert (
        migrator("plan", "--target", "terraform-aws", "--wave", "3", "--out", str(out), workspace=ws).code
        == 0
    )
    later = sub("2026-12-12 22:00 to 2026-12-13 02:30 UTC", "2026-12-19 22:00 to 2026-12-20 02:30 UTC")
    _, _, found = reviewed(ws, tmp_path, "terraform-aws", {"PLAN.md": later, "REPORT.md": later})
    assert found == []
    listed = migrator("edits", "list", "--format", "json", workspace=ws).json()
    assert [(r["kind"], r["source"], r["who"]) for r in listed] == [("cutover-window", "reviewer", "alice")]


def test_a_spread_label_on_one_vm_only_is_no_anti_affinity_but_free_edits_where_written(
    ws: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    alone = both(
        resub(
            r"^( {8})migrator.io/vm: crm-db-01\n",
            r"\1migrator.io/vm: crm-db-01\n\1spread.migrator.io/edit-db-pair: 'true'\n",
        ),
        lambda text: text + SPREAD_AFFINITY,
    )
    _, _, found = reviewed(ws, tmp_path, "kubevirt", {"vm-crm-db-01.yaml": alone})
    term = "spec.template.spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution.0."
    assert [(r["edit"]["kind"], r["edit"]["path"], r["edit"]["new"]) for r in found] == [
        ("free", "spec.template.metadata.labels.spread.migrator.io/edit-db-pair", '"true"'),
        ("free", term + "topologyKey", '"kubernetes.io/hostname"'),
        ("free", term + "labelSelector.matchLabels.spread.migrator.io/edit-db-pair", '"true"'),
    ]
