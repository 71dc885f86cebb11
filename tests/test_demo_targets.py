"""`make demo`'s landing step (migrator/simulator/demo_targets.py) on the demo estate: every
registered target's every wave lands as its own pull request, with real git, and the code on each
pull request's branch passes `migrator validate` (the real Terraform core for the Terraform
targets, the built-in Kubernetes validator for KubeVirt)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from migrator.simulator.demo_targets import land_every_target
from tests.golden import workspace_with
from tests.helpers import migrator
from tests.test_prs import KUBEVIRT_FLAGS, prs
from transpilers.registry import TARGETS


def _waves(ws: Path) -> set[int]:
    shown = migrator("waves", "show", "--format", "json", workspace=ws)
    assert shown.code == 0, shown.stderr
    return {w["number"] for w in json.loads(shown.stdout)["waves"]}


def _checkout(repo: Path, branch: str, into: Path) -> None:
    """The branch's tree as files, as a reviewer's clone would have them."""
    archive = subprocess.run(["git", "archive", branch], cwd=repo, capture_output=True, check=True)
    into.mkdir(parents=True, exist_ok=True)
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)


def test_the_demo_lands_every_registered_target_per_wave_with_valid_code(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    waves = _waves(ws)
    assert len(waves) >= 2
    calls: list[tuple[str, ...]] = []

    def run(*args: str) -> int:
        calls.append(args)
        result = migrator(*args, workspace=ws)
        assert result.code == 0, (args, result.stderr)
        return result.code

    landed_targets = land_every_target(run, tmp_path / "out", {"kubevirt": KUBEVIRT_FLAGS}, ("--no-tools",))
    assert landed_targets == TARGETS and len(TARGETS) == 5
    assert [c[2] for c in calls] == list(TARGETS)  # one plan --land per target, registry order
    rows = prs(ws)
    assert sorted((r["target"], r["wave"]) for r in rows) == sorted((t, w) for t in TARGETS for w in waves)
    landed = tmp_path / "landed"  # every branch's tree; each holds <target>/wave-NN/ only
    for row in rows:
        assert row["status"] == "open" and row["branch"] == f"migrator/{row['target']}/wave-{row['wave']:02d}"
        assert "status clean" in row["summary"], row
        _checkout(ws / "plans.git", row["branch"], landed)
    for target in TARGETS:
        checked = migrator("validate", str(landed / target), "--no-tools", "--format", "json", workspace=ws)
        assert checked.code == 0, (target, checked.stdout[-2000:], checked.stderr)
        reports = json.loads(checked.stdout)["reports"]
        assert sorted(Path(r["folder"]).name for r in reports) == [f"wave-{w:02d}" for w in sorted(waves)]
        assert all(r["valid"] and r["counts"]["error"] == 0 for r in reports), (target, reports)
