"""`make demo`'s learning step (migrator/simulator/learning_demo.py), run on the demo estate with
real git: two PRs carrying a reviewer's tag are merged, the last wave is planned, and its PLAN.md
shows the learned correction with its source PRs."""

from __future__ import annotations

from pathlib import Path

from migrator.simulator.learning_demo import learning_demo, tag_linux
from tests.helpers import migrator
from tests.test_prs import generated, land, landed, ws  # noqa: F401 - fixtures

LINUX_INSTANCE = """resource "aws_instance" "dns_01" {
  ami = lookup(var.ami_overrides, "dns_01", var.ami_ids["linux"])

  tags = {
    Name           = "dns-01"
    migration-wave = "2"
  }
}
"""


def test_tag_linux_tags_only_linux_instances() -> None:
    windows = (
        LINUX_INSTANCE.replace('"linux"', '"windows"').replace("dns_01", "ad_01").replace("dns-01", "ad-01")
    )
    text, count = tag_linux(LINUX_INSTANCE + windows)
    assert count == 1
    assert (
        text
        == LINUX_INSTANCE.replace(
            '    Name           = "dns-01"\n',
            '    Name           = "dns-01"\n    patch-group = "linux-weekly"\n',
        )
        + windows
    )


def test_the_demo_merges_reviewed_prs_and_prints_the_learned_correction(
    ws: Path,  # noqa: F811 - the fixture
    tmp_path: Path,
) -> None:
    numbers = [landed(land(ws, "terraform-aws", wave))["number"] for wave in (1, 2, 3)]
    assert numbers == [1, 2, 3]
    calls: list[tuple[str, ...]] = []

    def run(*args: str) -> int:
        calls.append(args)
        result = migrator(*args, workspace=ws)
        assert result.code == 0, (args, result.stderr)
        return result.code

    section = learning_demo(ws, tmp_path / "out", run, ("--no-tools",))
    assert [c[:2] for c in calls] == [
        ("pr", "approve"),
        ("pr", "merge"),
        ("pr", "approve"),
        ("pr", "merge"),
        ("learn", "status"),
        ("plan", "--target"),
    ]
    assert [c[2] for c in calls[:4]] == ["1", "1", "2", "2"]
    source = "learned correction L1 (confidence 1.00, from PR #1, #2)"
    assert section.startswith("## Changes from the generated plan")
    assert f"`shop-db-01: tags patch-group=linux-weekly` | `{source}" in section
    assert "crm-db-01" not in section  # a Windows VM: the correction does not match
