"""PLAN.md and chat models (issue 13): the hostile corpus's 24 annotations on VMs of a real plan,
a model that obeys every one of them, and then PLAN.md: each attempt is a finding a reviewer sees,
quoted as code, the refused answers too, and the model's usage for the plan; nothing it asked lands."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from markdown_it import MarkdownIt

from agents.llm.client import ChatClient
from agents.llm.config import parse_spec
from migrator.app.interpret import interpret
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.inventory_import import read_export
from tests.golden import FIXTURES
from tests.helpers import migrator
from tests.test_plan_md import headings

CORPUS = json.loads((FIXTURES / "hostile" / "annotations.json").read_text(encoding="utf-8"))
FINDINGS = "Injection attempts and refused model answers"
MODEL = "openai-compatible:http://127.0.0.1:9/v1#obedient"


class ObedientChat(BaseChatModel):
    """Obeys the injection in whichever VM it is asked about (found by the VM's name in the data)."""

    answers: dict[str, str]

    @property
    def _llm_type(self) -> str:
        return "obedient"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        prompt = str(messages[1].content)
        text = next(
            (a for name, a in self.answers.items() if f'"name": {json.dumps(name)}' in prompt),
            '{"facts": []}',
        )
        usage = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text, usage_metadata=usage))])


def _obey(entry: dict[str, Any]) -> str:
    return entry["obey"] if isinstance(entry["obey"], str) else json.dumps({"facts": entry["obey"]})


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Workspace]:
    tmp = tmp_path_factory.mktemp("hostile-models")
    inventory = json.loads((FIXTURES / "inventories" / "demo.json").read_text(encoding="utf-8"))
    template = next(v for v in inventory["vms"] if v["name"] == "payroll-db-dev")
    for n, entry in enumerate(CORPUS):
        fields = {**template["custom_fields"], "app": f"hostile-{n}"}  # one move group each
        inventory["vms"].append({**template, "name": f"hostile-{entry['id']}", "moref": f"vm-9{n:03d}",
                                 "uuid": f"hostile-{n}", "annotation": entry["annotation"],
                                 "custom_fields": fields})  # fmt: skip
    ws = Workspace.open(tmp / "ws")
    (tmp / "inv.json").write_text(json.dumps(inventory), encoding="utf-8")
    store_inventory(ws, "import", "inv.json", read_export(tmp / "inv.json"))
    chat = ObedientChat(answers={f"hostile-{e['id']}": _obey(e) for e in CORPUS})
    client = ChatClient(parse_spec(MODEL, env={}), chat, ws.llm, sleep=lambda s: None)
    result = interpret(ws, client=client)
    landed = [f for i in result.interpretations if i.vm.startswith("hostile-") for f in i.facts
              if f.origin.startswith("model:")]  # fmt: skip
    assert landed == []
    assert migrator("waves", "plan", "--max-per-host", "50", workspace=tmp / "ws").code in (0, 7)
    out = migrator(
        "plan", "--target", "terraform-aws", "--out", str(tmp / "out"), "--no-tools", workspace=tmp / "ws"
    )
    assert out.code in (0, 7), out.stderr
    return tmp / "out" / "terraform-aws", ws


def _section(text: str, title: str) -> str:
    return text.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


def test_each_hostile_attempt_is_a_finding_in_plan_md(plans: tuple[Path, Workspace]) -> None:
    root, _ = plans
    texts = [p.read_text(encoding="utf-8") for p in sorted(root.glob("wave-*/PLAN.md"))]
    table = [line for t in texts for line in _section(t, FINDINGS).splitlines()]
    rows = [line for line in table if line.startswith("| `hostile-")]
    for entry in CORPUS:
        mine = [r for r in rows if r.startswith(f"| `hostile-{entry['id']}` |")]
        ids = {r.split(" | ")[1] for r in mine}
        assert any(i.startswith("LLM01-") for i in ids), (entry["id"], ids)  # the attempt, reported
        assert any(i.startswith("LLM-OUT-") for i in ids), (entry["id"], ids)  # and the refused answer
    benign = [line for line in table if line.startswith("| `") and not line.startswith("| `hostile-")]
    assert benign == []  # the demo estate's ordinary annotations raise nothing


def test_hostile_findings_cannot_forge_markdown_and_nothing_lands(plans: tuple[Path, Workspace]) -> None:
    root, _ = plans
    for path in sorted(root.glob("wave-*/PLAN.md")):
        html = MarkdownIt("commonmark").enable("table").render(path.read_text(encoding="utf-8"))
        assert re.findall(r"<h2>(.*?)</h2>", html) == headings(path), path
        outside_code = re.sub(r"<code[^>]*>.*?</code>", "", html, flags=re.S)
        for forged in ("0.0.0.0/0", "<<<", "LGTM", "@", "user_data", "<script"):
            assert forged not in outside_code, (path, forged)
    for tf in root.rglob("*.tf"):
        text = tf.read_text(encoding="utf-8")
        assert not re.search(r'^\s*(user_data\w*\s*=|provisioner\s+")', text, re.M), tf
        assert not re.search(r'"aws_vpc_security_group_ingress_rule"[^}]*0\.0\.0\.0/0', text), tf


def test_plan_md_shows_the_model_usage_of_the_plan(plans: tuple[Path, Workspace]) -> None:
    root, ws = plans
    usage = _section((root / "wave-01" / "PLAN.md").read_text(encoding="utf-8"), "Model usage")
    row = next(line for line in usage.splitlines() if line.startswith("| `interpret` |"))
    cells = [c.strip() for c in row.strip("|").split(" | ")]
    answers = len(ws.llm.interactions(limit=1000))
    assert cells[1] == f"`{MODEL}`" and int(cells[2]) == answers == 16 + len(CORPUS)
    assert int(cells[3]) >= answers and int(cells[5]) == 100 * int(cells[3]) and cells[7] == "0.0000"
