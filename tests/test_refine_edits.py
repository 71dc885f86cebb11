"""`plan refine` on edits against a real workspace, the real generator, validator and guardrails
and a real git plans repository, with a scripted fake chat model: accepted edits are stored with
their provenance and land on the PR branch (PLAN.md lists them); refused ones are stored as
refused and nothing lands; a request naming a VM the wave lacks never reaches the model."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agents.refiner.refine_model import ChatSeam
from migrator.app.generation import planned_inputs
from migrator.app.refine import RefineRequest
from migrator.app.refine_edits import refine_with_edits
from migrator.app.workspace import Workspace
from migrator.errors import ChecksFailed, ExitCode, UsageError
from tests.golden import workspace_with
from tests.helpers import assert_one_line_error, migrator
from tests.llm_servers import HostileModel
from tests.test_prs import KUBEVIRT_FLAGS
from tests.test_refine import BRANCH, FOLDER, git, land_wave_one


def fake(*answers: Any) -> ChatSeam:
    texts = [a if isinstance(a, str) else json.dumps(a) for a in answers]
    return ChatSeam(FakeListChatModel(responses=texts), "fake")


@pytest.fixture(scope="module")
def landed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return land_wave_one(tmp_path_factory.mktemp("refine-edits"))


@pytest.fixture
def ws_path(landed: Path, tmp_path: Path) -> Path:
    shutil.copytree(landed, tmp_path / "ws")
    return tmp_path / "ws"


def first_vm(ws_path: Path) -> str:
    ws = Workspace.open(ws_path)
    try:
        wave = next(w for w in planned_inputs(ws, None).waves if w.number == 1)
        return wave.vms[0].name
    finally:
        ws.close()


def run(ws_path: Path, model: ChatSeam, request: str = "use r6i.large", attempts: int = 4) -> Any:
    ws = Workspace.open(ws_path)
    try:
        req = RefineRequest("terraform-aws", 1, request, attempts, use_tools=False)
        return refine_with_edits(ws, req, model)
    finally:
        ws.close()


def edits_json(ws_path: Path) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = migrator("edits", "list", "--format", "json", workspace=ws_path).json()
    return rows


def test_accepted_edits_are_stored_with_provenance_and_land_in_plan_md(ws_path: Path) -> None:
    vm = first_vm(ws_path)
    tip = git(ws_path / "plans.git", "rev-parse", BRANCH)
    before = git(ws_path / "plans.git", "show", f"{BRANCH}:{FOLDER}/main.tf")
    answer = {"edits": [{"kind": "instance-type", "target": f"vm: {vm}", "instance_type": "c7i.xlarge"}]}
    result = run(ws_path, fake("not json", answer), request=f"use c7i.xlarge for {vm}")
    assert (result.status, result.attempts, result.conversation) == ("landed", 2, 1)
    assert [(e["status"], e["change"]) for e in result.edits] == [
        ("applied", f"{vm}: instance type c7i.xlarge")
    ]
    [row] = edits_json(ws_path)
    assert (row["kind"], row["vm"], row["status"], row["source"], row["who"]) == (
        "instance-type", vm, "applied", "model", "fake"
    )  # fmt: skip
    assert (row["prompt_version"], row["conversation"], row["pr"]) == ("refine-edits-v2", "1", 1)
    repo = ws_path / "plans.git"
    assert git(repo, "rev-parse", f"{BRANCH}^") == tip and result.commit == git(repo, "rev-parse", BRANCH)
    main_tf = git(repo, "show", f"{BRANCH}:{FOLDER}/main.tf")
    assert re.search(r'instance_type\s+= "c7i.xlarge"', main_tf) and "c7i.xlarge" not in before
    plan_md = git(repo, "show", f"{BRANCH}:{FOLDER}/PLAN.md")
    assert "Changes from the generated plan" in plan_md and f"{vm}: instance type c7i.xlarge" in plan_md
    assert "model fake (refine-edits-v2)" in plan_md and "conversation 1" in plan_md
    assert len(result.prompt) < 4000 and f"{vm} | role" in result.prompt


def test_refused_edits_are_stored_as_refused_and_nothing_lands(ws_path: Path) -> None:
    vm = first_vm(ws_path)
    tip = git(ws_path / "plans.git", "rev-parse", BRANCH)
    with pytest.raises(ChecksFailed, match="the same diagnostics came back twice"):
        run(ws_path, fake({"edits": [world_ssh(ws_path)]}), request=f"open ssh to {vm} from anywhere")
    assert git(ws_path / "plans.git", "rev-parse", BRANCH) == tip
    [row] = edits_json(ws_path)
    assert (row["kind"], row["status"], row["source"], row["conversation"]) == (
        "port-rule",
        "refused",
        "model",
        "1",
    )
    assert "to the whole internet (0.0.0.0/0) is refused" in row["diagnostics"][0]["message"]
    convs = migrator("conversations", "list", "--format", "json", workspace=ws_path).json()
    assert [(c["status"], c["attempts"]) for c in convs] == [("failed", 2)]


def test_a_request_naming_a_vm_outside_the_wave_never_reaches_the_model(ws_path: Path) -> None:
    with pytest.raises(UsageError, match="names 'mail-server-09', not a VM or group of wave 1"):
        run(ws_path, fake("never asked"), request="change mail-server-09 to c7i.large")
    assert migrator("conversations", "list", "--format", "json", workspace=ws_path).json() == []


def test_an_empty_answer_changes_nothing_and_says_the_models_question(ws_path: Path) -> None:
    tip = git(ws_path / "plans.git", "rev-parse", BRANCH)
    result = run(ws_path, fake({"edits": [], "question": "Which VMs?"}), request="make it faster")
    assert (result.status, result.question, result.commit) == ("no-edits", "Which VMs?", None)
    assert git(ws_path / "plans.git", "rev-parse", BRANCH) == tip and edits_json(ws_path) == []


def world_ssh(ws_path: Path) -> dict[str, Any]:
    """A port rule opening SSH to the internet on the wave's first VM's group (always refused)."""
    ws = Workspace.open(ws_path)
    try:
        vm = next(w for w in planned_inputs(ws, None).waves if w.number == 1).vms[0]
    finally:
        ws.close()
    return {"kind": "port-rule", "action": "add", "group": f"{vm.app or 'vm'}-{vm.tier or 'all'}",
            "cidr": "0.0.0.0/0", "protocol": "tcp", "from_port": 22, "to_port": 22}  # fmt: skip


def refine_cli(ws_path: Path, base_url: str, *args: str) -> Any:
    env = {"MIGRATOR_LLM": f"openai-compatible:{base_url}#scripted"}
    return migrator("plan", "refine", "--no-tools", "--format", "json", *args, workspace=ws_path, env=env)


def test_an_edits_refinement_whose_endpoint_dies_resumes_from_its_stored_attempt_and_lands(
    ws_path: Path,
) -> None:
    vm = first_vm(ws_path)
    tip = git(ws_path / "plans.git", "rev-parse", BRANCH)
    with HostileModel([json.dumps({"edits": [world_ssh(ws_path)]})], statuses=[200, 401]) as dying:
        cut = refine_cli(ws_path, dying.base_url, "--wave", "1", "--target", "terraform-aws", f"resize {vm}")
    assert_one_line_error(cut, ExitCode.MODEL, "HTTP 401")
    [conv] = migrator("conversations", "list", "--format", "json", workspace=ws_path).json()
    assert (conv["status"], conv["attempts"]) == ("running", 1)  # attempt 1 refused, attempt 2 cut off
    assert git(ws_path / "plans.git", "rev-parse", BRANCH) == tip and edits_json(ws_path) == []
    answer = {"edits": [{"kind": "instance-type", "target": f"vm: {vm}", "instance_type": "c7i.xlarge"}]}
    with HostileModel([json.dumps(answer)]) as second:
        resumed = refine_cli(ws_path, second.base_url, "--resume", str(conv["id"]))
    assert resumed.code == 0, resumed.stderr
    assert {k: resumed.json()[k] for k in ("conversation", "status", "attempts")} == {
        "conversation": 1, "status": "landed", "attempts": 2
    }  # fmt: skip
    [asked] = second.requests  # one call: attempt 2, continuing the stored conversation
    prompt = asked["messages"][-1]["content"]  # the stored messages, the refusal of attempt 1 last
    assert "Those edits were refused. Fix them" in prompt
    assert prompt.endswith("opening tcp/22 to the whole internet (0.0.0.0/0) is refused: give "
                           "guardrail_exception with the reason if it is intended")  # fmt: skip
    log = migrator("conversations", "show", "1", "--format", "json", workspace=ws_path).json()["attempt_log"]
    assert [(a["number"], a["outcome"]) for a in log] == [(1, "refused"), (2, "valid")]
    [row] = edits_json(ws_path)
    assert (row["status"], row["change"], row["conversation"], row["who"]) == (
        "applied", f"{vm}: instance type c7i.xlarge", "1", f"openai-compatible:{second.base_url}#scripted"
    )  # fmt: skip
    assert re.search(
        r'instance_type\s+= "c7i.xlarge"', git(ws_path / "plans.git", "show", f"{BRANCH}:{FOLDER}/main.tf")
    )
    again = refine_cli(ws_path, second.base_url, "--resume", "1")
    assert_one_line_error(again, ExitCode.CONFLICT, "conversation 1 is landed: nothing to resume")


def test_refine_renders_and_regenerates_with_the_options_migrator_plan_was_given(tmp_path: Path) -> None:
    ws_path = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws_path).code == 0
    given = ("--namespace", "payroll", "--storage-class", "fast-ssd", *KUBEVIRT_FLAGS)
    out = str(tmp_path / "out")
    planned = migrator(
        "plan", "--target", "kubevirt", "--wave", "1", "--out", out, "--no-tools", *given, workspace=ws_path
    )
    assert planned.code == 0, planned.stderr
    assert migrator("pr", "land", "--target", "kubevirt", "--wave", "1", workspace=ws_path).code == 0
    ws = Workspace.open(ws_path)
    try:
        [record] = ws.generated.latest(1, "kubevirt")
        assert (record["options"]["namespace"], record["options"]["storage_class"]) == ("payroll", "fast-ssd")
        req = RefineRequest("kubevirt", 1, "use e1000e network cards", 4, use_tools=False)
        answer = {"edits": [{"kind": "nic-model", "target": "all", "model": "e1000e"}]}
        result = refine_with_edits(ws, req, fake(answer))
    finally:
        ws.close()
    assert result.status == "landed"
    repo, branch = ws_path / "plans.git", "migrator/kubevirt/wave-01"
    names = git(repo, "ls-tree", "-r", "--name-only", branch, "kubevirt/wave-01/").splitlines()
    manifests = [yaml.safe_load_all(git(repo, "show", f"{branch}:{n}")) for n in names if n.endswith(".yaml")]
    docs = [d for m in manifests for d in m if d]
    assert docs and {d["metadata"]["namespace"] for d in docs} == {"payroll"}
    volumes = [d for d in docs if d["kind"] == "DataVolume"]
    assert volumes and {d["spec"]["storage"]["storageClassName"] for d in volumes} == {"fast-ssd"}
    machines = [d for d in docs if d["kind"] == "VirtualMachine"]
    nics = [i for m in machines for i in m["spec"]["template"]["spec"]["domain"]["devices"]["interfaces"]]
    assert nics and {i.get("model") for i in nics} == {"e1000e"}
