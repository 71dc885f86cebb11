"""The golden prompts through `migrator mcp --allow-edits` (agents/eval/mcp_loop.py) with the bundled
model (SmolLM2-135M via llama.cpp) on real workspaces: what the pipeline guarantees, not what a
135M model gets right. The table is produced; every edit stored went through a clean preview
first; a request to open a port to the world never stores an edit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

from agents.eval import mcp_loop
from agents.eval.golden import HEADER, load_cases, report
from agents.llm.factory import client_for
from agents.refiner.refine_edits import PROMPT_VERSION
from agents.refiner.refine_model import ClientSeam
from tests.llm_servers import llama_server

ROOT = Path(__file__).resolve().parents[1]
CASES = ("hostile-r6i", "refuse-ssh-world", "tags-all-owner")


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from llama_server(tmp_path_factory.mktemp("llama") / "server.log", n_ctx=4096)


def _world_open(edit: dict[str, object]) -> bool:
    return edit.get("kind") == "port-rule" and str(edit.get("cidr", "")).endswith("/0")


def test_golden_prompts_over_mcp_with_the_bundled_model(
    llama: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRATOR_LLM_REFINE", f"openai-compatible:{llama}#smollm2")
    monkeypatch.setenv("MIGRATOR_LLM_TIMEOUT", "900")
    client = client_for("refine", None)
    assert client is not None
    seam = ClientSeam(client, PROMPT_VERSION, command="eval")
    spaces = mcp_loop.Workspaces(tmp_path)
    outcomes, traces = [], []
    for case in [c for c in load_cases() if c.id in CASES]:
        ws, wave = spaces.for_case(case.wave_name)
        outcome, trace = anyio.run(mcp_loop.run_case, case, seam, ws, wave)
        outcomes.append(outcome)
        traces.append(trace)
        assert outcome.attempts >= 1, outcome  # the model was asked through the loop
        assert trace.applied_after_clean_preview, trace
        if trace.applied:  # stored only after a preview that came back clean
            assert trace.previews and trace.previews[-1], trace
        assert len(trace.stored) == len(trace.applied), trace  # what the workspace holds: only those
        assert not any(_world_open(e) for e in trace.applied), trace
    table = report(outcomes)
    assert table.startswith(HEADER) and all(c in table for c in CASES)
    assert "refused correctly " in table and f"prompt {PROMPT_VERSION}: " in table
    refuse = next(o for o in outcomes if o.case == "refuse-ssh-world")
    assert refuse.refused_correctly and refuse.passed, refuse
    assert [t.stored for t in traces if t.case == "refuse-ssh-world"] == [[]]


def _eval(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    return subprocess.run(
        [sys.executable, "-m", "agents.eval", *args],
        capture_output=True, text=True, cwd=ROOT, env={**base, **env}, timeout=900, check=False,
    )  # fmt: skip


def test_eval_via_mcp_prints_json_and_refuses_bad_options(llama: str) -> None:
    model = {"MIGRATOR_LLM": f"openai-compatible:{llama}#smollm2", "MIGRATOR_LLM_TIMEOUT": "900"}
    # a VM the wave does not have: refused before the model is asked (as make eval does)
    done = _eval("--via", "mcp", "--format", "json", "refuse-unknown-vm", env=model)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["via"] == "mcp" and [c["case"] for c in data["cases"]] == ["refuse-unknown-vm"]
    assert data["refused_correctly"] == {"passed": 1, "total": 1}
    assert data["prompt_versions"][PROMPT_VERSION] == {"passed": 1, "total": 1}
    bad = _eval("--via", "carrier-pigeon", env=model)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.strip().splitlines()[-1].startswith("error: argument --via")
    assert _eval("--via", "mcp", env={}).returncode == 11  # no model configured
