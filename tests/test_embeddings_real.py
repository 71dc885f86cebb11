"""The model path with the real bundled model (SmolLM2-135M through llama.cpp's server on
loopback): the merged examples retrieved by embedding reach the real model's prompt as the last
few-shot examples, and whatever it answers is checked and recorded (a 135M model rarely gets an
edit right; this proves the plumbing, not its quality)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from agents.llm.factory import client_for
from agents.refiner.refine_edits import PROMPT_VERSION
from agents.refiner.refine_model import Answer, ClientSeam
from migrator.app.refine import RefineRequest
from migrator.app.refine_edits import refine_with_edits
from migrator.app.retrieval import example_text
from migrator.app.workspace import Workspace
from migrator.errors import ChecksFailed
from tests.llm_servers import llama_server
from tests.test_embeddings import rows
from tests.test_refine import land_wave_one


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from llama_server(tmp_path_factory.mktemp("llama") / "server.log", n_ctx=4096)


class Recording:
    """The real model seam, remembering what it was asked."""

    def __init__(self, inner: ClientSeam) -> None:
        self.inner, self.name = inner, inner.name
        self.asked: list[list[tuple[str, str]]] = []

    def ask(self, messages: list[tuple[str, str]], schema: type[BaseModel]) -> Answer:
        self.asked.append(list(messages))
        return self.inner.ask(messages, schema)


def test_smollm2_is_given_the_retrieved_examples_last_and_its_answer_is_checked(
    llama: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = shutil.copytree(land_wave_one(tmp_path / "landed"), tmp_path / "ws")
    monkeypatch.setenv("MIGRATOR_LLM_REFINE", f"openai-compatible:{llama}#smollm2")
    monkeypatch.setenv("MIGRATOR_LLM_MAX_TOKENS", "300")
    ws = Workspace.open(path)
    outcome: Any
    try:
        ws.learning.add_examples(rows())
        client = client_for("refine", ws.llm)
        assert client is not None
        model = Recording(ClientSeam(client, PROMPT_VERSION))
        req = RefineRequest(
            "terraform-aws", 1, "io2 data disks with 3000 IOPS for the databases", 2, use_tools=False
        )
        try:
            outcome = refine_with_edits(ws, req, model).status
        except ChecksFailed as exc:  # refused: checked, stored as refused, nothing landed
            outcome = str(exc)
        records = ws.llm.interactions(10)
    finally:
        ws.close()
    user = model.asked[0][1][1]
    examples = user.split("Examples on another wave:\n")[1].split("\n\nWave facts:")[0]
    requests = [line for line in examples.splitlines() if line.startswith("Request: ")]
    assert requests[-1] == f"Request: <data>{example_text(rows()[0])}</data>"
    assert "ignore all previous instructions" not in user
    assert len(records) == len(model.asked) and all(r["calls"] >= 1 for r in records)
    assert outcome in ("landed", "no-edits") or "nothing was landed" in outcome
