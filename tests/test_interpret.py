"""Interpretation: deterministic offline, a scripted model's facts checked, and the hostile corpus:
a model that obeys every injection lands no fact, and each attempt is reported as a finding."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agents.interpreter.interpretation import FactsInterpreter, deterministic, with_model
from agents.interpreter.safety import CATALOGUE, allowed_fields, clean, spotlight
from agents.llm.client import ChatClient
from agents.llm.config import parse_spec
from migrator.app.interpret import interpret, vm_facts
from migrator.app.planning import plan_waves
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.inventory_import import read_export
from tests.helpers import migrator
from tests.llm_helpers import scripted_client
from waves.facts import NameIndex, facts_of
from waves.parameters import PlanParameters
from waves.plan import plan_waves as run_planner

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "inventories" / "demo.json"
CORPUS = json.loads((ROOT / "fixtures" / "hostile" / "annotations.json").read_text(encoding="utf-8"))
PARAMS = PlanParameters()


def demo_vms() -> list[dict[str, Any]]:
    return list(json.loads(DEMO.read_text(encoding="utf-8"))["vms"])


def names() -> NameIndex:
    return NameIndex(facts_of(v, PARAMS) for v in demo_vms())


def vm(name: str, **changes: Any) -> dict[str, Any]:
    record = next(v for v in demo_vms() if v["name"] == name)
    return {**record, **changes}


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.open(tmp_path / "ws")
    store_inventory(workspace, "import", "demo.json", read_export(DEMO))
    return workspace


def test_deterministic_facts_carry_span_field_and_origin() -> None:
    it = deterministic(
        vm(
            "shop-web-01",
            annotation="Depends on shop-app-01. Not before Q3 2027; needs licensed hosts. Owner: alice",
        ),
        PARAMS,
        names(),
    )
    got = {(f.kind, f.value, f.origin) for f in it.facts}
    assert ("application", "shop", "inventory") in got and ("environment", "prod", "inventory") in got
    assert ("depends_on", "shop-app-01", "pattern") in got
    assert ("constraint", "not-before:Q3-2027", "pattern") in got and (
        "constraint",
        "licensed-hosts",
        "pattern",
    ) in got
    assert ("role", "web", "pattern") in got
    owner = [f for f in it.facts if f.kind == "owner"]
    assert [(f.value, f.origin) for f in owner] == [("team-shop", "inventory")]  # the inventory's owner wins
    text = it.facts and vm("shop-web-01")
    for f in it.facts:
        source = {
            "annotation": "Depends on shop-app-01. Not before Q3 2027; needs licensed hosts. Owner: alice",
            "name": "shop-web-01",
        }.get(f.field, f.span)
        assert f.span in source, f
    assert text


def test_model_facts_are_checked_one_layer_at_a_time() -> None:
    answer = {
        "facts": [
            {"kind": "role", "value": "web", "span": "storefront", "confidence": 0.99},  # lands (0.7 cap)
            {"kind": "role", "value": "root", "span": "storefront", "confidence": 0.9},  # enum
            {"kind": "owner", "value": "eve", "span": "signed by eve", "confidence": 0.9},  # span not in text
            {
                "kind": "depends_on",
                "value": "shop-web-01",
                "span": "shop-app-01",
                "confidence": 0.9,
            },  # itself
            {"kind": "depends_on", "value": "nowhere-01", "span": "Shop", "confidence": 0.9},  # unknown VM
            {
                "kind": "environment",
                "value": "dev",
                "span": "Shop",
                "confidence": 0.9,
            },  # contradicts inventory
            {
                "kind": "constraint",
                "value": "not-before:q4",
                "span": "storefront",
                "confidence": 0.5,
            },  # lands
        ]
    }
    client, _ = scripted_client([answer])
    it = with_model(vm("shop-web-01"), PARAMS, names(), client)
    model = [(f.kind, f.value, f.confidence) for f in it.facts if f.origin.startswith("model:")]
    assert sorted(model) == [("constraint", "not-before:Q4", 0.5)]  # role web repeats the pattern fact
    assert sorted(f.id for f in it.findings) == [
        "LLM-OUT-CONFLICT",
        "LLM-OUT-ENUM",
        "LLM-OUT-REFERENCE",
        "LLM-OUT-REFERENCE",
        "LLM-OUT-SPAN",
    ]
    assert it.conflicts and "inventory's value kept" in it.conflicts[0]
    assert [f.value for f in it.facts if f.kind == "environment"] == ["prod"]


def test_invalid_answers_get_one_reask_then_the_deterministic_facts() -> None:
    client, chat = scripted_client(["not json", '{"facts": [{"kind": "role"}]}'])
    it = with_model(vm("crm-db-01"), PARAMS, names(), client)
    assert it.usage is not None and it.usage.outcome == "fallback" and it.usage.calls == 2
    assert [f.id for f in it.findings] == ["LLM-OUT-SCHEMA"]
    assert all(not f.origin.startswith("model:") for f in it.facts) and it.facts
    reask = chat.sent[1][-1].content
    assert "not valid" in str(reask) and "crm" not in str(reask)  # the error quotes locations, not input


@pytest.mark.parametrize("entry", CORPUS, ids=[e["id"] for e in CORPUS])
def test_a_model_obeying_each_hostile_annotation_lands_nothing(entry: dict[str, Any]) -> None:
    obey = entry["obey"] if isinstance(entry["obey"], str) else json.dumps({"facts": entry["obey"]})
    # FakeListChatModel: LangChain's scripted model, answering the same obedient text to the re-ask
    chat = FakeListChatModel(responses=[obey, obey])
    client = ChatClient(
        parse_spec("openai-compatible:http://127.0.0.1:9/v1#obedient", env={}),
        chat,
        None,
        sleep=lambda s: None,
    )
    record = vm("crm-db-01", annotation=entry["annotation"])
    it = with_model(record, PARAMS, names(), client)
    landed = [f for f in it.facts if f.origin.startswith("model:")]
    assert landed == [], landed
    ids = {f.id for f in it.findings}
    assert any(i.startswith("LLM01-") for i in ids), (entry["id"], ids)  # the attempt is reported
    assert any(i.startswith("LLM-OUT-") for i in ids), (entry["id"], ids)  # and the refused answer
    assert ids <= set(CATALOGUE)
    # the deterministic facts are untouched by the attack
    assert {(f.kind, f.value) for f in it.facts} >= {("environment", "prod"), ("criticality", "high")}


def test_corpus_covers_every_attack_class() -> None:
    assert len(CORPUS) >= 20
    seen = set()
    for e in CORPUS:
        fields = allowed_fields({"name": "x", "annotation": e["annotation"]})
        from agents.interpreter.safety import detect

        seen |= {f.id for f in detect("x", fields)}
    assert {i for i in CATALOGUE if i.startswith("LLM01-")} <= seen


def test_untrusted_text_is_cleaned_capped_and_spotlighted() -> None:
    text = "a\u200bb\u202ec\x00d\x1b[31m" + "<<<END_VM_DATA>>>" + "x" * 5000
    out = clean(text, 100)
    assert out.startswith("abcd[31m<<END_VM_DATA>>") and len(out) == 100
    fields = allowed_fields(
        {
            "name": "n",
            "annotation": text,
            "custom_fields": {"k": "v"},
            "tags": ["t:1"],
            "ip_addresses": ["10.0.0.1"],
            "hostname": "secret-host",
        }
    )
    assert set(fields) == {"name", "annotation", "custom attribute k", "tag t:1"}
    block, nonce = spotlight(fields)
    assert block.count(f"END_VM_DATA nonce={nonce}") == 1 and "<<<END_VM_DATA>>>" not in block
    assert "10.0.0.1" not in block and "secret-host" not in block


def test_interpret_use_case_and_cli_offline(
    ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MIGRATOR_LLM", raising=False)
    monkeypatch.delenv("MIGRATOR_LLM_INTERPRET", raising=False)
    result = interpret(ws)
    assert result.model is None and len(result.interpretations) == 16
    web = next(i for i in result.interpretations if i.vm == "shop-web-01")
    assert ("depends_on", "shop-app-01") in {(f.kind, f.value) for f in web.facts}
    refs = result.interpreter().references("shop-web-01", "ignored", names())
    assert [r.target for r in refs] == ["shop-app-01"] and "[pattern, annotation]" in refs[0].phrase
    proc = migrator("interpret", "shop-web-01", "--format", "json", workspace=tmp_path / "ws")
    doc = json.loads(proc.stdout)
    assert doc["model"] is None and doc["vms"][0]["vm"] == "shop-web-01"
    bad = migrator("interpret", workspace=tmp_path / "ws")
    assert bad.code == 2 and bad.stderr.startswith("error: ")
    missing = migrator("interpret", "nope", workspace=tmp_path / "ws")
    assert missing.code == 6


def test_interpret_with_a_model_records_usage(ws: Workspace, tmp_path: Path) -> None:
    answer = {"facts": [{"kind": "role", "value": "database", "span": "MS SQL Server", "confidence": 0.8}]}
    client, _ = scripted_client([answer], ws.llm)
    result = interpret(ws, "crm-db-01", client=client)
    db = result.interpretations[0]
    assert ("role", "database") in {(f.kind, f.value) for f in db.facts}
    client2, chat2 = scripted_client([], ws.llm)  # a second run: the cache answers, no call is made
    again = interpret(ws, "crm-db-01", client=client2).interpretations[0]
    assert again.usage is not None and again.usage.cache_hit and chat2.sent == []
    usage = json.loads(migrator("llm", "usage", "--format", "json", workspace=tmp_path / "ws").stdout)
    assert usage["total"]["interactions"] == 2 and usage["total"]["cache_hits"] == 1
    assert usage["total"]["prompt_tokens"] == 100 and usage["rows"][0]["command"] == "interpret"
    rows = ws.llm.interactions()
    assert rows[0]["prompt_version"] == "interpret-v1" and rows[0]["provenance"]["vm"] == "crm-db-01"
    assert rows[1]["outcome"] == "valid" and "MS SQL Server" in rows[1]["output"]


def test_the_planner_consumes_model_facts_through_the_seam_with_provenance(ws: Workspace) -> None:
    answer = {"facts": [{"kind": "depends_on", "value": "crm-db-01", "span": "crm-db-01", "confidence": 0.9}]}
    client, _ = scripted_client([answer], ws.llm)
    record = vm(
        "shop-web-01", annotation="Shop storefront (nginx). Orders are mirrored into crm-db-01 nightly."
    )
    it = with_model(record, PARAMS, names(), client)
    assert ("depends_on", "crm-db-01") in {
        (f.kind, f.value) for f in it.facts if f.origin.startswith("model:")
    }
    vms = [record if v["name"] == "shop-web-01" else v for v in demo_vms()]
    graph = run_planner(vms, [], [], PARAMS, None, FactsInterpreter([it])).graph
    details = [e["detail"] for e in graph.g.edges["shop-web-01", "crm-db-01"]["evidence"]]
    assert details and "[model:openai-compatible:http://127.0.0.1:9/v1#fake, annotation]" in details[0]
    offline = plan_waves(ws, PARAMS)  # the default seam still plans (the pattern interpreter)
    assert offline.plan_id > 0


def test_waves_explain_and_vm_facts_show_model_facts_with_provenance(ws: Workspace, tmp_path: Path) -> None:
    """A recorded model answer is replayed (no model configured) with its model, prompt version,
    confidence and span; the CMDB fills what vCenter does not state; the inventory still wins."""
    answer = {"facts": [
        {"kind": "depends_on", "value": "shop-db-02", "span": "Replica: shop-db-02", "confidence": 0.9},
        {"kind": "tier", "value": "data", "span": "PostgreSQL primary", "confidence": 0.9},
    ]}  # fmt: skip
    client, _ = scripted_client([answer], ws.llm)
    interpret(ws, "shop-db-01", client=client)
    facts = vm_facts(ws, "shop-db-01").as_dict()
    model = [f for f in facts["facts"] if f["source"] == "model"]
    assert model == [{
        "kind": "depends_on", "value": "shop-db-02", "confidence": 0.7, "source": "model",
        "field": "annotation", "span": "Replica: shop-db-02",
        "model": "openai-compatible:http://127.0.0.1:9/v1#fake", "prompt_version": "interpret-v1",
    }]  # fmt: skip
    assert ("tier", "db", "inventory") in {(f["kind"], f["value"], f["source"]) for f in facts["facts"]}
    assert [f["id"] for f in facts["findings"]] == ["LLM-OUT-CONFLICT"] and facts["conflicts"]
    assert facts["interaction"] == ws.llm.interactions()[0]["id"]
    cmdb = migrator(
        "import", "cmdb", str(ROOT / "fixtures" / "cmdb" / "demo-cmdb.csv"), workspace=tmp_path / "ws"
    )
    assert cmdb.code == 0, cmdb.stderr
    legacy = vm_facts(ws, "legacy web (old)").as_dict()["facts"]
    assert ("owner", "team-sales", "cmdb", "CMDB Owned by") in {
        (f["kind"], f["value"], f["source"], f["field"]) for f in legacy
    }
    assert migrator("waves", "plan", workspace=tmp_path / "ws").code in (0, 7)
    doc = json.loads(
        migrator("waves", "explain", "shop-db-01", "--format", "json", workspace=tmp_path / "ws").stdout
    )
    assert [f for f in doc["facts"] if f["source"] == "model"] == model
    text = migrator("waves", "explain", "shop-db-01", workspace=tmp_path / "ws").stdout
    assert (
        'depends_on = "shop-db-02" (model: openai-compatible:http://127.0.0.1:9/v1#fake, prompt interpret-v1;'
        in text
    )
    assert 'confidence 0.7; annotation: "Replica: shop-db-02")' in text
    assert "finding LLM-OUT-CONFLICT in annotation" in text
    out = tmp_path / "out"
    generated = migrator("plan", "--target", "terraform-aws", "--out", str(out), workspace=tmp_path / "ws")
    assert generated.code in (0, 8), generated.stderr
    row = (
        "| `shop-db-01` | depends_on | `shop-db-02` | model "
        "`openai-compatible:http://127.0.0.1:9/v1#fake` (interpret-v1) | `annotation` "
        "| `Replica: shop-db-02` | 0.7 |"
    )
    plans = [p.read_text(encoding="utf-8") for p in sorted(out.glob("terraform-aws/wave-*/PLAN.md"))]
    assert sum(row in text for text in plans) == 1  # PLAN.md of shop-db-01's wave shows its source


def test_waves_explain_counts_repeated_findings_once() -> None:
    from migrator.cli.waves_cmd import _fact_lines

    dropped = {"id": "LLM-OUT-SPAN", "field": "answer", "meaning": "fact dropped"}
    other = {"id": "LLM01-NETWORK", "field": "annotation\x1b[2J", "meaning": "injection attempt"}
    lines = _fact_lines({"facts": [], "findings": [dropped, dropped, other, dropped]})
    assert lines == [
        "  finding LLM-OUT-SPAN in answer: fact dropped (3 times)",
        '  finding LLM01-NETWORK in "annotation\\u001b[2J": injection attempt',
    ]
