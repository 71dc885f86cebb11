"""The model side of the six later edit kinds (instance family, vCPU/memory, network,
anti-affinity, availability zone, cutover window): the per-wave answer schema offers only the
wave's selectors, NIC labels, the catalogue's families, bounded sizes and the region's zones;
expansion turns each proposal into real plan edits whose own checks run; an anti-affinity set
outside 2-7 VMs goes back to the model as a problem; the golden cases of these kinds are judged
right when a scripted model gives the right answer; an OpenAI endpoint gets the wave's schema in
strict json_schema mode."""

from __future__ import annotations

import json
from typing import Any

import pytest
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from pydantic import BaseModel, ValidationError

from agents.eval.golden import load_cases, plan_check, run_case, wave_from_facts
from agents.llm.client import response_format, strict_schema
from agents.llm.config import parse_spec
from agents.llm.factory import client_for
from agents.refiner import refine_edit_graph
from agents.refiner.refine_edits import (
    MAX_MEMORY_GB,
    MODEL_KINDS,
    PROMPT_VERSION,
    answer_schema,
    expand,
    facts,
    foreign_names,
)
from agents.refiner.refine_model import ChatSeam, ClientSeam
from agents.refiner.refine_steps import StepwiseModel
from tests.llm_servers import HostileModel
from waves.edits import MAX_MEMORY_MB, TARGETS_OF

CASES = {c.id: c for c in load_cases()}
SHOP = CASES["it-databases-r6i"].wave
NEW_KINDS = (
    "instance-family",
    "cpu-memory",
    "network",
    "anti-affinity",
    "availability-zone",
    "cutover-window",
)


def fake(*answers: Any) -> ChatSeam:
    return ChatSeam(FakeListChatModel(responses=[json.dumps(a) for a in answers]), "fake")


def answer(*items: dict[str, Any]) -> dict[str, Any]:
    return {"edits": list(items), "question": ""}


def described(proposals: list[dict[str, Any]]) -> list[str]:
    out = expand(SHOP, proposals)
    assert out.problems == []
    return [e.describe() for e in out.edits]


def test_each_target_offers_exactly_the_kinds_its_transpiler_honours() -> None:
    for target in ("terraform-aws", "kubevirt"):
        honoured = {kind for kind, targets in TARGETS_OF.items() if target in targets}
        # A model says an EBS type with `volume` (with its IOPS); `disk-type` is the per-cloud
        # kind reviewers and other clouds use.
        assert set(MODEL_KINDS[target]) == honoured - {"disk-type"}
    assert set(NEW_KINDS) <= set(MODEL_KINDS["terraform-aws"])
    assert set(NEW_KINDS) - set(MODEL_KINDS["kubevirt"]) == {"instance-family", "availability-zone"}


def test_the_schema_accepts_the_new_kinds_over_the_waves_own_names() -> None:
    schema = answer_schema("terraform-aws", SHOP)
    ok = answer(
        {"kind": "instance-family", "target": "role: web", "family": "c7i"},
        {"kind": "cpu-memory", "target": "vm: shop-app-01", "vcpu": 8, "memory_gb": MAX_MEMORY_GB},
        {"kind": "network", "target": "role: database", "nic": "Network adapter 2", "network": "backup"},
        {"kind": "anti-affinity", "target": "role: database", "required": False},
        {"kind": "availability-zone", "zone": "us-east-1f"},
        {"kind": "cutover-window", "start": "2026-12-12T22:00:00Z", "end": "2026-12-13T04:00:00Z"},
    )
    kinds = [e["kind"] for e in schema.model_validate(ok).model_dump()["edits"]]
    assert kinds == list(NEW_KINDS)
    body = schema.model_json_schema()["$defs"]
    assert body["NetworkEdit"]["properties"]["nic"]["enum"] == ["Network adapter 1", "Network adapter 2"]
    assert body["InstanceFamilyEdit"]["properties"]["family"]["enum"] == [
        "c6i",
        "c7i",
        "m6i",
        "m7i",
        "r6i",
        "r7i",
    ]
    assert body["CutoverWindowEdit"]["properties"]["start"]["format"] == "date-time"


@pytest.mark.parametrize(
    "wrong",
    [
        {"kind": "instance-family", "target": "all", "family": "x9"},
        {"kind": "cpu-memory", "target": "all", "vcpu": 449},
        {"kind": "cpu-memory", "target": "all", "memory_gb": MAX_MEMORY_GB + 1},
        {"kind": "cpu-memory", "target": "all", "vcpu": 0},
        {"kind": "network", "target": "all", "nic": "Network adapter 7", "network": "dmz"},
        {"kind": "network", "target": "vm: mail-01", "nic": "Network adapter 1", "network": "dmz"},
        {"kind": "anti-affinity", "target": "role: database", "name": "x", "vms": ["shop-db-01"]},
        {"kind": "availability-zone", "zone": "eu-west-1a"},
        {"kind": "cutover-window", "start": "2026-12-12T22:00:00Z"},
    ],
)
def test_the_schema_refuses_what_the_wave_or_the_bounds_do_not_allow(wrong: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        answer_schema("terraform-aws", SHOP).model_validate(answer(wrong))


def test_kubevirt_is_not_offered_a_family_or_a_zone() -> None:
    schema = answer_schema("kubevirt", SHOP)
    for wrong in (
        {"kind": "instance-family", "target": "all", "family": "c7i"},
        {"kind": "availability-zone", "zone": "us-east-1a"},
    ):
        with pytest.raises(ValidationError):
            schema.model_validate(answer(wrong))
    ok = answer({"kind": "cpu-memory", "target": "role: cache", "vcpu": 4})
    assert schema.model_validate(ok).model_dump()["edits"][0]["vcpu"] == 4


def test_zones_come_from_the_waves_region() -> None:
    schema = answer_schema("terraform-aws", SHOP, region="eu-central-1")
    zones = schema.model_json_schema()["$defs"]["AvailabilityZoneEdit"]["properties"]["zone"]["enum"]
    assert zones == [f"eu-central-1{c}" for c in "abcdef"]
    with pytest.raises(ValidationError):
        schema.model_validate(answer({"kind": "availability-zone", "zone": "us-east-1b"}))


def test_the_new_kinds_expand_to_real_plan_edits() -> None:
    assert described(
        [
            {"kind": "instance-family", "target": "role: web", "family": "c7i"},
            {"kind": "cpu-memory", "target": "vm: shop-app-01", "vcpu": 8, "memory_gb": 32},
            {"kind": "cpu-memory", "target": "role: cache", "vcpu": None, "memory_gb": 16},
            {"kind": "network", "target": "all", "nic": "Network adapter 2", "network": "backup-net"},
            {"kind": "anti-affinity", "target": "role: database", "required": False},
            {"kind": "availability-zone", "zone": "us-east-1b"},
            {"kind": "cutover-window", "start": "2026-12-12T23:00:00+01:00", "end": "2026-12-13T04:00:00Z"},
        ]
    ) == [
        "shop-web-01: instance family c7i",
        "shop-web-02: instance family c7i",
        "shop-app-01: size 8 vCPU / 32768 MiB",
        "shop-cache-01: size 16384 MiB",
        "shop-db-01 NIC Network adapter 2: network backup-net",  # only the VMs with that NIC
        "shop-db-02 NIC Network adapter 2: network backup-net",
        "wave 3: keep shop-db-01, shop-db-02 on separate hosts (set database, preferred)",
        "wave 3: availability zone us-east-1b",
        "wave 3: cutover window 2026-12-12 22:00 UTC to 2026-12-13 04:00 UTC",
    ]


def test_a_volume_proposal_that_changes_nothing_is_dropped_not_a_refusal_of_the_others() -> None:
    """Seen with the bundled model on "use r6i for the databases": right instance types plus a
    volume edit naming a disk with no value; that no-op refused the whole answer, every attempt."""
    out = expand(
        SHOP,
        [
            {"kind": "instance-type", "target": "role: database", "instance_type": "r6i.large"},
            {
                "kind": "volume",
                "target": "role: database",
                "disk": "Hard disk 1",
                "type": None,
                "size_gb": None,
            },
        ],
    )
    assert (out.problems, out.rejected) == ([], [])
    assert [e.describe() for e in out.edits] == [
        "shop-db-01: instance type r6i.large",
        "shop-db-02: instance type r6i.large",
    ]


def test_the_edits_own_checks_refuse_what_the_schema_let_through() -> None:
    out = expand(
        SHOP,
        [
            {"kind": "cutover-window", "start": "2026-12-13T04:00:00Z", "end": "2026-12-12T22:00:00Z"},
            {"kind": "cutover-window", "start": "saturday night", "end": "2026-12-12T22:00:00Z"},
            {"kind": "network", "target": "role: web", "nic": "Network adapter 2", "network": "backup"},
            {"kind": "network", "target": "role: web", "nic": "Network adapter 1", "network": "Not A Label"},
            {"kind": "cpu-memory", "target": "all"},
        ],
    )
    assert out.edits == []
    assert [p.split(":")[0] for p in out.problems] == [
        "edit 1 (cutover-window)", "edit 2 (cutover-window)", "edit 3 (network)", "edit 4 (network)",
        "edit 5 (cpu-memory)",
    ]  # fmt: skip
    assert "ends (2026-12-12 22:00 UTC) before it starts" in out.problems[0]
    assert "no selected VM has a NIC labelled 'Network adapter 2'" in out.problems[2]
    assert "sets vcpu, memory_mb or both" in out.problems[4]


def test_an_anti_affinity_set_outside_two_to_seven_vms_is_refused_with_why() -> None:
    one = expand(SHOP, [{"kind": "anti-affinity", "target": "vm: shop-app-01", "required": True}])
    assert one.edits == [] and one.problems == [
        "edit 1 (anti-affinity): target 'vm: shop-app-01' selects 1 VM(s); an anti-affinity set keeps "
        "2 to 7 VMs apart: choose a role with that many VMs"
    ]
    eight = wave_from_facts(
        {"number": 5, "vms": [
            {"name": f"w-{i}", "app": "a", "tier": "web", "os": "Ubuntu Linux (64-bit)", "cpu": 2,
             "memory_gb": 4, "type": "m6i.large", "disks": {"Hard disk 1": 10}}
            for i in range(8)
        ]}
    )  # fmt: skip
    out = expand(eight, [{"kind": "anti-affinity", "target": "all", "required": True}])
    assert out.edits == [] and "selects 8 VM(s)" in out.problems[0]
    six = expand(SHOP, [{"kind": "anti-affinity", "target": "all", "required": True}])
    assert [e.model_dump()["vms"] for e in six.edits] == [[vm.name for vm in SHOP.vms]]


def test_the_refusal_goes_back_to_the_model_and_its_next_answer_is_accepted() -> None:
    model = fake(
        answer({"kind": "anti-affinity", "target": "vm: shop-db-01", "required": True}),
        answer({"kind": "anti-affinity", "target": "role: database", "required": True}),
    )
    schema = answer_schema("terraform-aws", SHOP)
    graph = refine_edit_graph.build(model, schema, SHOP, plan_check(SHOP))
    start = refine_edit_graph.initial_state(
        "terraform-aws", "keep the databases apart", facts(SHOP, []), MODEL_KINDS["terraform-aws"]
    )
    state = graph.invoke(start)
    assert state["status"] == "valid" and len(state["attempts"]) == 2
    assert state["messages"][3][0] == "user" and "selects 1 VM(s)" in state["messages"][3][1]
    assert state["result"] == [
        {"version": 1, "kind": "anti-affinity", "wave": 3, "name": "database",
         "vms": ["shop-db-01", "shop-db-02"], "required": True}
    ]  # fmt: skip


def test_the_facts_give_region_and_nics_in_lines_that_do_not_grow_with_the_wave() -> None:
    lines = facts(SHOP, [], region="eu-west-1").splitlines()
    assert lines[0] == "wave 3: 6 VM(s), region eu-west-1"
    assert lines[-2] == (
        "NICs: Network adapter 1 on shop-back (4 VMs), shop-front (2 VMs); "
        "Network adapter 2 on shop-backup (2 VMs)"
    )
    assert len(lines) == len(SHOP.vms) + 3  # head, one per VM, NICs, current edits


def test_zones_and_source_networks_in_a_request_are_not_foreign_names() -> None:
    assert foreign_names("place the wave in us-east-1b", SHOP) == []
    assert foreign_names("move shop-db-01 off shop-backup to vlan-20", SHOP) == ["vlan-20"]


@pytest.mark.parametrize(
    "case_id",
    sorted(i for i, c in CASES.items() if any(e["kind"] in NEW_KINDS for e in c.expect.get("edits") or [])),
)
def test_the_golden_cases_of_the_new_kinds_pass_with_the_right_answer(case_id: str) -> None:
    case = CASES[case_id]
    right = {
        "family-web-c7i": {"kind": "instance-family", "target": "role: web", "family": "c7i"},
        "cpu-app-8": {"kind": "cpu-memory", "target": "vm: shop-app-01", "vcpu": 8, "memory_gb": 32},
        "net-web-edge": {"kind": "network", "target": "role: web", "nic": "Network adapter 1",
                         "network": "edge"},
        "aa-databases": {"kind": "anti-affinity", "target": "role: database", "required": True},
        "az-east-1b": {"kind": "availability-zone", "zone": "us-east-1b"},
        "cutover-saturday": {"kind": "cutover-window", "start": "2026-12-12T22:00:00Z",
                             "end": "2026-12-13T04:00:00Z"},
        "kv-cpu-cache": {"kind": "cpu-memory", "target": "role: cache", "vcpu": 4},
        "kv-network-backup": {"kind": "network", "target": "role: database", "nic": "Network adapter 2",
                              "network": "backup-net"},
        "kv-anti-affinity-web": {"kind": "anti-affinity", "target": "role: web", "required": True},
        "kv-cutover": {"kind": "cutover-window", "start": "2027-01-16T20:00:00Z",
                       "end": "2027-01-16T23:00:00Z"},
    }[case_id]  # fmt: skip
    outcome = run_case(case, fake(answer(right)))
    assert (outcome.converged, outcome.edits_correct, outcome.attempts, outcome.problems) == (
        True,
        True,
        1,
        [],
    )
    wrong = run_case(case, fake(answer({"kind": "tags", "target": "all", "key": "a", "value": "b"})))
    assert wrong.edits_correct is False


def test_memory_bounds_follow_the_edit_model() -> None:
    assert MAX_MEMORY_GB * 1024 == MAX_MEMORY_MB


def _objects(node: Any) -> list[dict[str, Any]]:
    if isinstance(node, list):
        return [o for item in node for o in _objects(item)]
    if not isinstance(node, dict):
        return []
    own = [node] if node.get("type") == "object" else []
    return own + [o for value in node.values() for o in _objects(value)]


def test_openai_json_schema_mode_sends_the_wave_schema_strict_to_a_real_endpoint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reply = {"edits": [{"kind": "volume", "target": "role: database", "disk": "Hard disk 2", "type": None,
                        "size_gb": None, "iops": 6000, "throughput": None}], "question": ""}  # fmt: skip
    with HostileModel([json.dumps(reply)]) as endpoint:
        monkeypatch.setenv("MIGRATOR_LLM_REFINE", f"openai-compatible:{endpoint.base_url}#strict")
        monkeypatch.setenv("MIGRATOR_LLM_METHOD", "json_schema")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-strict-0000")
        client = client_for("refine", None)
        assert client is not None
        got = ClientSeam(client, PROMPT_VERSION, command="test").ask(
            [("system", "s"), ("user", "u")], answer_schema("terraform-aws", SHOP)
        )
    sent = endpoint.requests[0]["response_format"]
    assert sent["type"] == "json_schema" and sent["json_schema"]["strict"] is True
    assert sent["json_schema"]["name"] == "Wave3Edits"
    objects = _objects(sent["json_schema"]["schema"])
    assert len(objects) == 12  # the answer and one per kind
    for obj in objects:
        assert obj["additionalProperties"] is False and obj["required"] == list(obj["properties"])
    assert '"default"' not in json.dumps(sent)
    assert got.error is None and got.value is not None
    assert [e.describe() for e in expand(SHOP, got.value.model_dump()["edits"]).edits] == [
        "shop-db-01 disk Hard disk 2: IOPS 6000",
        "shop-db-02 disk Hard disk 2: IOPS 6000",
    ]


def test_a_schema_with_an_open_mapping_is_sent_not_strict() -> None:
    class Tagged(BaseModel):
        tags: dict[str, str]

    assert strict_schema(Tagged.model_json_schema()) is None
    spec = parse_spec("openai:gpt-4o-mini", {})
    assert response_format(spec, Tagged)["json_schema"]["strict"] is False
    closed = response_format(spec, answer_schema("kubevirt", SHOP))["json_schema"]
    assert closed["strict"] is True and "CutoverWindowEdit" in closed["schema"]["$defs"]


def test_in_steps_the_model_picks_kind_then_target_then_values_each_closed() -> None:
    chat = FakeListChatModel(
        responses=['{"kind": "cpu-memory"}', '{"target": "vm: shop-app-01"}', '{"vcpu": 8, "memory_gb": 32}']
    )
    stepwise = StepwiseModel(ChatSeam(chat, "fake"), "terraform-aws", SHOP)
    schema = answer_schema("terraform-aws", SHOP)
    got = stepwise.ask([("system", "s"), ("user", "give shop-app-01 8 vCPUs and 32 GB")], schema)
    assert got.error is None and got.value is not None
    assert json.loads(got.raw) == {"edits": [{"kind": "cpu-memory", "target": "vm: shop-app-01", "vcpu": 8,
                                              "memory_gb": 32}], "question": ""}  # fmt: skip
    outcome = run_case(
        CASES["cpu-app-8"], ChatSeam(FakeListChatModel(responses=chat.responses), "fake"), steps=True
    )
    assert (outcome.converged, outcome.edits_correct, outcome.attempts) == (True, True, 1)


def test_in_steps_a_wave_kind_skips_the_target_and_nothing_means_no_edits() -> None:
    zone = ChatSeam(
        FakeListChatModel(responses=['{"kind": "availability-zone"}', '{"zone": "us-east-1c"}']), "f"
    )
    got = StepwiseModel(zone, "terraform-aws", SHOP).ask(
        [("system", "s"), ("user", "u")], answer_schema("terraform-aws", SHOP)
    )
    assert json.loads(got.raw)["edits"] == [{"kind": "availability-zone", "zone": "us-east-1c"}]
    none = ChatSeam(FakeListChatModel(responses=['{"kind": "nothing"}']), "f")
    assert run_case(CASES["refuse-ssh-world"], none, steps=True).refused_correctly is True
    wrong = ChatSeam(FakeListChatModel(responses=['{"kind": "boot-bus"}']), "f")  # not an AWS kind
    bad = StepwiseModel(wrong, "terraform-aws", SHOP).ask(
        [("system", "s"), ("user", "u")], answer_schema("terraform-aws", SHOP)
    )
    assert bad.value is None and "does not match the schema" in str(bad.error)
