"""PLAN.md: the golden copies' Mermaid blocks parse with the real Mermaid parser, and hostile
inventory text cannot forge headings, links, images, HTML, mentions, task lists or approvals,
nor break the diagram or the runbooks' shell commands.

The golden PLAN.md files are part of fixtures/golden/iac (tests/test_transpilers.py compares
them; `make golden` rewrites them).
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from tests.golden import FIXTURES, GOLDEN
from tests.helpers import migrator
from tests.mermaid_check import mermaid_blocks, parse_mermaid

OUR_HEADINGS = [
    "Summary",
    "VMs",
    "Why these VMs move together",
    "Facts and where they came from",
    "Dependency diagram",
    "Validation and policy results",
    "Migratability findings",
    "Injection attempts and refused model answers",
    "Model usage",
    "Cost against as-is",
    "Cutover runbook",
    "Rollback runbook",
    "Open questions for reviewers",
]
# after "VMs": who moves the VMs (docs/handoff.md), per target
HANDOFF_HEADING = {"kubevirt": "How the VMs move: Forklift", "terraform-aws": "Hand-off to AWS MGN"}


def headings(path: Path) -> list[str]:
    """OUR_HEADINGS with the hand-off section of the target the PLAN.md belongs to."""
    target = path.parent.parent.name
    handoff = [HANDOFF_HEADING[target]] if target in HANDOFF_HEADING else []  # terraform-azure/-google: none
    return [*OUR_HEADINGS[:2], *handoff, *OUR_HEADINGS[2:]]


HOSTILE_NAMES = {
    "crm-app-01": "## Approved by @security-team\n- [x] LGTM",
    "crm-db-01": '<img src=x onerror=alert(1)><script>alert(1)</script>"]; n1 --> n2 %% x',
    "crm-web-01": "[click](https://evil.example) ![i](https://evil.example/i.png) `$(rm -rf /)`",
    "shop-db-01": "```\nend\n```mermaid\n| a | b |\n/approve @octocat",
}
HOSTILE_APP = "shop</code><b>bold</b> @everyone [x](javascript:alert(1))"


def _plan_md_files(root: Path) -> list[Path]:
    return sorted(root.rglob("PLAN.md"))


def test_golden_plan_md_exists_for_every_wave_and_target() -> None:
    found = {p.parent.relative_to(GOLDEN / "iac").as_posix() for p in _plan_md_files(GOLDEN / "iac")}
    targets = (
        "kubevirt",
        "kubevirt-forklift",
        "terraform-aws",
        "terraform-azure",
        "terraform-google",
        "terraform-openstack",
    )
    assert found == {f"{t}/wave-0{n}" for t in targets for n in (1, 2, 3)}


def test_golden_mermaid_blocks_parse_with_the_real_parser() -> None:
    blocks = [
        b for p in _plan_md_files(GOLDEN / "iac") for b in mermaid_blocks(p.read_text(encoding="utf-8"))
    ]
    assert len(blocks) == 18  # one per wave: 6 golden trees x 3 waves
    results = parse_mermaid(blocks)
    assert all(r["ok"] for r in results), results
    assert {r["type"] for r in results} == {"flowchart-v2"}


def test_the_parser_rejects_a_broken_diagram() -> None:
    """The check can fail: a label with a bare quote does not parse."""
    results = parse_mermaid(['flowchart LR\n  n1["a " b"] --> n2\n'])
    assert results[0]["ok"] is False


@pytest.fixture(scope="module")
def hostile_plans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("hostile")
    inventory = json.loads((FIXTURES / "inventories" / "demo.json").read_text(encoding="utf-8"))
    for vm in inventory["vms"]:
        if vm["name"] in HOSTILE_NAMES:
            vm["annotation"] = "## heading\n<b>x</b> @admin"
            vm["name"] = HOSTILE_NAMES[vm["name"]]
        if vm["name"] == "dns-01":  # guest tools report addresses: untrusted too
            vm["ip_addresses"] = ["10.0.0.1\n## forged <b>ip</b>", *vm["ip_addresses"]]
        if (vm.get("custom_fields") or {}).get("app") == "shop":
            vm["custom_fields"]["app"] = HOSTILE_APP
    (tmp / "inv.json").write_text(json.dumps(inventory), encoding="utf-8")
    ws = tmp / "ws"
    assert migrator("import", "inventory", str(tmp / "inv.json"), workspace=ws).code == 0
    assert migrator("import", "flows", str(FIXTURES / "flows" / "demo-flows.csv"), workspace=ws).code == 0
    assert migrator("waves", "plan", workspace=ws).code in (0, 7)
    for target in ("terraform-aws", "kubevirt", "terraform-azure", "terraform-google", "terraform-openstack"):
        result = migrator("plan", "--target", target, "--out", str(tmp / "out"), "--no-tools", workspace=ws)
        assert result.code in (0, 7), result.stderr
    return tmp / "out"


def _html(markdown: str) -> str:
    return MarkdownIt("commonmark").enable("table").render(markdown)


def test_hostile_text_cannot_forge_markdown(hostile_plans: Path) -> None:
    files = _plan_md_files(hostile_plans)
    assert len(files) >= 4
    seen_hostile = False
    for path in files:
        text = path.read_text(encoding="utf-8")
        seen_hostile |= "Approved by @security-team" in text
        html = _html(text)
        assert re.findall(r"<h2>(.*?)</h2>", html) == headings(path), path
        assert len(re.findall(r"<h1>", html)) == 1 and "<h3" not in html
        for forged in ("<img", "<a ", "<script", "<b>", 'type="checkbox"'):
            assert forged not in html, (path, forged)  # not even inside code: there it is escaped
        outside_code = re.sub(r"<code[^>]*>.*?</code>", "", html, flags=re.S)
        assert "javascript:" not in outside_code and "evil.example" not in outside_code
        assert "@" not in outside_code.replace("@\u2060", ""), path  # no live mention
        assert "LGTM" not in outside_code and "/approve" not in outside_code
        for line in text.splitlines():  # no inventory text starts a line of its own
            assert not line.startswith(("- [x]", "/approve", "| a | b |")), line
    assert seen_hostile


def test_hostile_names_keep_the_diagram_parseable(hostile_plans: Path) -> None:
    blocks = [b for p in _plan_md_files(hostile_plans) for b in mermaid_blocks(p.read_text(encoding="utf-8"))]
    assert len(blocks) == len(_plan_md_files(hostile_plans))
    assert any("#60;img" in b for b in blocks)  # the hostile name is in a label, encoded
    results = parse_mermaid(blocks)
    assert all(r["ok"] for r in results), results


def test_runbook_commands_quote_hostile_names(hostile_plans: Path) -> None:
    texts = [p.read_text(encoding="utf-8") for p in _plan_md_files(hostile_plans)]
    commands = [
        line.strip()
        for text in texts
        for line in text.splitlines()
        if line.strip().startswith("govc vm.power")
    ]
    assert commands
    names = []
    for command in commands:
        argv = _bash_argv(command)  # what bash would pass to govc
        assert argv[:4] in (["govc", "vm.power", "-s", "--"], ["govc", "vm.power", "-on", "--"]), argv
        assert len(argv) == 5  # exactly one VM name argument, whatever it contains
        names.append(argv[4])
    assert set(HOSTILE_NAMES.values()) <= set(names)  # exact names, newlines and all


def _bash_argv(command: str) -> list[str]:
    script = f'argv() {{ printf "%s\\0" "$@"; }}; argv {command}'
    out = subprocess.run(["bash", "-c", script], capture_output=True, check=True).stdout
    return out.decode("utf-8").split("\0")[:-1]
