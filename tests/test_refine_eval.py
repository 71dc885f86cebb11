"""Refinement on edits without a real model: the per-wave schema (closed over the wave's names),
selector expansion, the validate-and-retry graph with a scripted fake chat model, the request
name check, and the golden-set harness (`make eval`) judging right, wrong, refused and asked."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import ValidationError

from agents.eval.golden import Outcome, judge, load_cases, plan_check, report, run_case
from agents.refiner import refine_edit_graph
from agents.refiner.refine_edits import MODEL_KINDS, answer_schema, expand, facts, foreign_names
from agents.refiner.refine_model import ChatSeam
from migrator.diagnostics import Diagnostic

CASES = {c.id: c for c in load_cases()}
SHOP = CASES["it-databases-r6i"].wave


def fake(*answers: Any) -> ChatSeam:
    texts = [a if isinstance(a, str) else json.dumps(a) for a in answers]
    return ChatSeam(FakeListChatModel(responses=texts), "fake")


def edits(*items: dict[str, Any], question: str = "") -> dict[str, Any]:
    return {"edits": list(items), "question": question}


def run(request: str, model: ChatSeam, target: str = "terraform-aws", attempts: int = 4) -> Any:
    graph = refine_edit_graph.build(model, answer_schema(target, SHOP), SHOP, plan_check(SHOP))
    start = refine_edit_graph.initial_state(target, request, facts(SHOP, []), MODEL_KINDS[target], attempts)
    return graph.invoke(start)


def test_the_golden_set_covers_every_kind_refusals_questions_and_hostile_waves() -> None:
    assert len(CASES) >= 24
    kinds = {e["kind"] for c in CASES.values() for e in c.expect.get("edits") or []}
    assert kinds == set(MODEL_KINDS["terraform-aws"]) | set(MODEL_KINDS["kubevirt"])
    refuse = sorted(i for i, c in CASES.items() if c.expect.get("refuse"))
    assert refuse == [
        "refuse-encryption", "refuse-other-wave-vm", "refuse-rdp-world", "refuse-ssh-world",
        "refuse-unknown-vm",
    ]  # fmt: skip
    assert sorted(i for i, c in CASES.items() if c.expect.get("ask")) == [
        "ask-bigger",
        "ask-cheaper",
        "ask-faster",
    ]
    assert sorted(i for i, c in CASES.items() if c.wave.number == 2) == ["hostile-r6i", "hostile-tags"]


def test_the_schema_names_only_the_waves_vms_disks_and_catalogue_types() -> None:
    schema = answer_schema("terraform-aws", SHOP)
    ok = edits({"kind": "instance-type", "target": "role: database", "instance_type": "r6i.large"})
    assert schema.model_validate(ok).model_dump()["edits"][0]["target"] == "role: database"
    for wrong in (
        {"kind": "instance-type", "target": "vm: mail-server-09", "instance_type": "r6i.large"},
        {"kind": "instance-type", "target": "all", "instance_type": "x9.huge"},
        {"kind": "volume", "target": "all", "disk": "Hard disk 9", "size_gb": 10},
        {"kind": "boot-bus", "target": "all", "bus": "sata"},  # a kubevirt kind: not offered to AWS
        {"kind": "port-rule", "action": "add", "group": "shop-web", "cidr": "0.0.0.0/0", "protocol": "tcp",
         "from_port": 22, "to_port": 22, "guardrail_exception": "the model may not give one"},
    ):  # fmt: skip
        with pytest.raises(ValidationError):
            schema.model_validate(edits(wrong))
    body = json.dumps(schema.model_json_schema())
    assert '"vm: shop-db-02"' in body and '"Hard disk 2"' in body and '"r7i.24xlarge"' in body


def test_selectors_expand_to_the_waves_vms_and_world_open_rules_are_refused() -> None:
    out = expand(SHOP, [{"kind": "volume", "target": "all", "disk": "Hard disk 2", "iops": 6000}])
    assert [e.describe() for e in out.edits] == [
        "shop-app-01 disk Hard disk 2: IOPS 6000",
        "shop-db-01 disk Hard disk 2: IOPS 6000",
        "shop-db-02 disk Hard disk 2: IOPS 6000",
    ]
    world = {"kind": "port-rule", "action": "add", "group": "shop-web", "cidr": "0.0.0.0/0",
             "protocol": "tcp", "from_port": 22, "to_port": 22}  # fmt: skip
    refused = expand(SHOP, [world])
    assert refused.edits == [] and "to the whole internet (0.0.0.0/0) is refused" in refused.problems[0]
    assert refused.rejected == [{k: v for k, v in world.items() if k != "target"} | {"wave": 3}]


def test_request_words_naming_no_vm_of_the_wave_are_caught_before_asking() -> None:
    assert foreign_names("change mail-server-09 and shop-db-01 in eu-central-1", SHOP) == ["mail-server-09"]
    assert foreign_names("use r6i.large for the databases", SHOP) == []


def test_refused_edits_go_back_with_diagnostics_and_the_next_answer_is_accepted() -> None:
    unknown = {"kind": "volume", "target": "vm: shop-web-01", "disk": "Hard disk 2", "size_gb": 100}
    right = {"kind": "instance-type", "target": "role: database", "instance_type": "r6i.large"}
    state = run("use r6i.large for the databases", fake("no json here", edits(unknown), edits(right)))
    assert state["status"] == "valid" and len(state["attempts"]) == 3
    assert [a["outcome"] for a in state["attempts"]] == ["refused", "refused", "valid"]
    assert state["attempts"][0]["diagnostics"][0]["rule"] == "REFINE-INVALID-ANSWER"
    sent_back = state["messages"][-2][1]  # the user turn before the last answer
    assert "no selected VM has a disk labelled 'Hard disk 2'" in sent_back
    assert state["result"] == [
        {"version": 1, "kind": "instance-type", "vm": "shop-db-01", "instance_type": "r6i.large"},
        {"version": 1, "kind": "instance-type", "vm": "shop-db-02", "instance_type": "r6i.large"},
    ]


def test_an_empty_answer_ends_at_once_with_the_models_question() -> None:
    state = run("make it faster", fake(edits(question="Which VMs?"), "never asked"))
    assert (state["status"], state["question"], len(state["attempts"])) == ("empty", "Which VMs?", 1)


def test_the_same_refusal_twice_stops_and_keeps_the_refused_edits() -> None:
    bad = edits({"kind": "port-rule", "action": "add", "group": "shop-db", "peer_group": "shop-web",
                 "protocol": "tcp", "from_port": 5432, "to_port": 5432})  # fmt: skip
    state = run("allow postgres", fake("{}", bad, bad, bad), attempts=4)
    # 'shop-db' is no group: the schema refuses it (the groups are shop-database, ...)
    assert state["status"] == "failed" and len(state["attempts"]) == 3
    assert state["reason"] == "the same diagnostics came back twice"


def test_at_most_max_attempts_then_the_last_edits_are_kept_as_refused() -> None:
    first = edits({"kind": "instance-type", "target": "vm: shop-web-01", "instance_type": "c7i.large"})
    later = edits({"kind": "volume", "target": "vm: shop-web-01", "disk": "Hard disk 1", "size_gb": 5})

    def always_refuse(proposed: list[Any]) -> list[Diagnostic]:
        return [Diagnostic("test", "ALWAYS", "error", "", None, f"refused {proposed[0].describe()}")]

    schema = answer_schema("terraform-aws", SHOP)
    graph = refine_edit_graph.build(fake(first, later), schema, SHOP, always_refuse)
    start = refine_edit_graph.initial_state("terraform-aws", "x", facts(SHOP, []), ("volume",), 2)
    state = graph.invoke(start)
    assert (state["status"], state["reason"]) == ("failed", "no valid edits in 2 attempt(s)")
    assert state["refused"] == [
        {"version": 1, "kind": "volume", "vm": "shop-web-01", "disk": "Hard disk 1", "type": None,
         "size_gb": 5, "iops": None, "throughput": None}
    ]  # fmt: skip


def test_the_harness_judges_right_wrong_refused_and_asked_answers() -> None:
    right = edits({"kind": "instance-type", "target": "role: database", "instance_type": "r6i.4xlarge"})
    wider = edits({"kind": "instance-type", "target": "all", "instance_type": "r6i.4xlarge"})
    good = run_case(CASES["it-databases-r6i"], fake(right))
    bad = run_case(CASES["it-databases-r6i"], fake(wider))
    assert (good.passed, good.converged, good.edits_correct, good.attempts) == (True, True, True, 1)
    assert (bad.passed, bad.converged, bad.edits_correct) == (False, True, False)
    ssh = edits({"kind": "port-rule", "action": "add", "group": "shop-database", "cidr": "0.0.0.0/0",
                 "protocol": "tcp", "from_port": 22, "to_port": 22})  # fmt: skip
    refused = run_case(CASES["refuse-ssh-world"], fake(ssh, ssh), attempts=2)
    assert (refused.refused_correctly, refused.passed) == (True, True)
    unknown = run_case(CASES["refuse-unknown-vm"], fake("never asked"))
    assert (unknown.refused_correctly, unknown.attempts) == (True, 0)  # caught before asking
    asked = run_case(CASES["ask-faster"], fake(edits(question="Which disks, and how fast?")))
    silent = judge(CASES["ask-faster"], {"status": "empty", "attempts": [{}], "result": [], "question": ""})
    assert (asked.asked, asked.passed, silent.asked, silent.problems) == (True, True, False, ["no question"])


def test_the_report_prints_each_prompt_and_the_totals() -> None:
    outcomes = [
        Outcome("a", "refine-edits-v1", True, 1, True, None, None),
        Outcome("b", "refine-edits-v1", False, 4, False, None, None, ["edits [] != expected"]),
        Outcome("c", "refine-edits-v1", True, 0, None, True, None),
        Outcome("d", "refine-edits-v1", False, 1, None, None, False, ["no question"]),
    ]
    text = report(outcomes).splitlines()
    assert text[0].split() == ["case", "converged", "attempts", "edits", "refused", "asked"]
    assert text[2].split()[:5] == ["b", "no", "4", "no", "-"]
    assert text[-2] == "edits correct 1/2; refused correctly 1/1; asked 0/1"
    assert text[-1] == "prompt refine-edits-v1: 2/4 passed (50%)"
