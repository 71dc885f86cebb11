"""`migrator eval replay` with the bundled model (SmolLM2-135M through llama.cpp's server, never
skipped) on three small cases cut from the shipped corpus: what the pipeline guarantees, not how
good a 135M model is. The figures are counted; each case is shown only earlier cases' examples;
no accepted edit fails validation when checked again; a refused or empty answer lands nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.eval.replay import distance, load_corpus
from migrator.app.refine_edits import render_check
from migrator.app.replay_model import TARGET, case_wave
from migrator.app.workspace import Workspace
from tests.helpers import migrator
from tests.llm_servers import llama_server
from transpilers.model import TargetOptions
from waves.edits import parse_edit

CORPUS = Path(__file__).resolve().parents[1] / "fixtures" / "learning" / "synthetic"
VMS_PER_CASE = 4


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from llama_server(tmp_path_factory.mktemp("llama") / "server.log", n_ctx=4096)


def small_corpus(folder: Path) -> Path:
    """The first three shipped cases, four VMs each (the bundled model takes about a minute a case)."""
    folder.mkdir()
    for path in sorted(CORPUS.glob("*.json"))[:3]:
        case = json.loads(path.read_text(encoding="utf-8"))
        case["vms"] = case["vms"][:VMS_PER_CASE]
        (folder / path.name).write_text(json.dumps(case), encoding="utf-8")
    return folder


def test_the_replay_runs_the_model_path_with_the_bundled_model(llama: str, tmp_path: Path) -> None:
    corpus = small_corpus(tmp_path / "corpus")
    env = {"MIGRATOR_LLM": f"openai-compatible:{llama}#smollm2", "MIGRATOR_LLM_TIMEOUT": "900",
           "MIGRATOR_LLM_MAX_TOKENS": "300"}  # fmt: skip
    args = ("eval", "replay", str(corpus), "--model-cases", "3", "--format", "json")
    result = migrator(*args, workspace=tmp_path / "ws", env=env, timeout=1800)
    assert result.code == 0, result.stderr
    data = result.json()
    summary, rows = data["summary"]["model"], data["cases"]
    assert summary["status"] == "run" and summary["cases"] == ["case-001", "case-002", "case-003"]
    assert summary["retrieval"] == "all-MiniLM-L6-v2" and summary["model"].endswith("#smollm2")
    cases = load_corpus(corpus)
    for number, (row, case) in enumerate(zip(rows, cases, strict=True), 1):
        m = row["model"]
        assert isinstance(row["edits_model"], int) and row["edits_model"] >= 0
        # only earlier cases' examples: none for the first, PRs before this one after it
        assert m["examples"] == [] if number == 1 else 1 <= len(m["examples"]) <= 3
        assert all(int(p.split()[1][1:].rstrip(",")) < case.pr for p in m["examples"])
        without = sum(distance(vm.generated, vm.merged) for vm in case.vms)
        if m["status"] != "valid":  # refused, failed or empty: nothing lands
            assert m["accepted"] == [] and row["edits_model"] == without
            continue
        # the accepted edits pass the same check again: applied, rendered, validated clean
        check = render_check(TARGET, case_wave(case, number), TargetOptions(), [], use_tools=False)
        assert m["accepted"] and check([parse_edit(e) for e in m["accepted"]]) == []
    assert summary["edits"]["model"] == sum(r["edits_model"] for r in rows)
    assert summary["edits"]["without"] == sum(r["edits_without"] for r in rows)
    ws = Workspace.open(tmp_path / "ws")
    try:  # every attempt is a recorded call of the model layer, under the replay's command
        records = ws.llm.interactions(50)
    finally:
        ws.close()
    assert len(records) == sum(r["model"]["attempts"] for r in rows) >= 3
    assert {(r["prompt_version"], r["command"]) for r in records} == {("refine-edits-v2", "eval replay")}
