"""The semantic cache of `plan refine` (docs/learning.md#semantic-cache): a request like an
earlier one, on a wave whose facts hash the same, reuses the earlier CHECKED answer (one the
validators and guardrails accepted and that landed) instead of asking the model again.

Per workspace (today's tenant): the rows live in the workspace's own database (table
`embeddings`, kind `cache`). A hit needs all of: the same target, the same facts hash (the wave's
VM lines and current edits), cosine similarity >= THRESHOLD between the requests, the same tokens
with digits in both requests (an embedding barely separates `fin42` from `fin43`: 0.97), and
every value of the cached edits written in the new request. The reused answer is still checked
against the wave like any answer; a refused or empty answer is never stored.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel

from agents.llm.embed import EmbeddingModelMissing, embed
from agents.refiner.refine_model import Answer, StructuredModel, parse_answer
from migrator.app.workspace import Workspace
from migrator.store.embeddings import EmbeddingStore, pack
from migrator.store.models import Conversation, Embedding, LLMInteraction
from migrator.store.snapshots import now

THRESHOLD = 0.85  # measured: paraphrases 0.88-0.93; same words for other VMs 0.66 (docs/learning.md)
_TOKEN = re.compile(r"[a-z0-9][a-z0-9._:/-]*")


def facts_hash(target: str, facts: str) -> str:
    return hashlib.sha256(f"{target}\n{facts}".encode()).hexdigest()


def _digits(text: str) -> set[str]:
    return {t.rstrip(".") for t in _TOKEN.findall(text.lower()) if any(c.isdigit() for c in t)}


def _values(answer: dict[str, Any]) -> list[str]:
    """The words an answer's edits set (kind excluded; a selector's role or VM name included)."""
    out: list[str] = []
    for edit in answer.get("edits", []):
        for key, value in edit.items():
            if key == "kind" or value in (None, "", "all"):
                continue
            text = str(value).split(":", 1)[1].strip() if key == "target" else str(value)
            out.append(text.lower())
    return out


def reusable(request: str, cached: Embedding) -> bool:
    """Beyond the similarity: the literal values agree (numbers, names, the cached edits' values)."""
    low = request.lower()
    return _digits(request) == _digits(cached.text) and all(v in low for v in _values(cached.answer))


def lookup(ws: Workspace, target: str, facts: str, request: str) -> Embedding | None:
    try:
        vector = embed(request)
    except EmbeddingModelMissing:
        return None
    hits = EmbeddingStore(ws.engine).nearest(vector, "cache", 5, target, facts_hash(target, facts))
    return next((h.row for h in hits if h.score >= THRESHOLD and reusable(request, h.row)), None)


def remember(ws: Workspace, target: str, facts: str, request: str, state: dict[str, Any]) -> None:
    """Store a checked answer (status valid: the validators and guardrails accepted it); never an
    empty or refused one."""
    if state.get("status") != "valid" or not state.get("proposal"):
        return
    try:
        vector = embed(request)
    except EmbeddingModelMissing:
        return
    answer = {"edits": state["proposal"], "question": ""}
    key = facts_hash(target, facts)
    row = Embedding(created_at=now(), kind="cache", target=target, facts_hash=key, text=request,
                    vector=pack(vector), answer=answer)  # fmt: skip
    EmbeddingStore(ws.engine).add(row)


class SemanticHit:
    """The model seam with the cached answer as its first answer (recorded as a semantic hit in
    `llm usage`, no call made); any later attempt asks the real model."""

    def __init__(self, inner: StructuredModel, ws: Workspace, conv: Conversation, cached: Embedding) -> None:
        self.inner, self.ws, self.conv, self.cached = inner, ws, conv, cached
        self.name = inner.name
        self.used = False

    def ask(self, messages: list[tuple[str, str]], schema: type[BaseModel]) -> Answer:
        if self.used:
            return self.inner.ask(messages, schema)
        self.used = True
        raw = json.dumps(self.cached.answer)
        value, error = parse_answer(raw, schema)
        if value is None:  # the wave's schema no longer accepts it: ask the model
            return self.inner.ask(messages, schema)
        self.ws.llm.record(LLMInteraction(
            at=datetime.now(UTC), task="refine", command="plan refine", plan_id=self.conv.plan_id,
            model=self.name, prompt_version="semantic-cache", input_hash=self.cached.facts_hash,
            provenance={"conversation": self.conv.id, "semantic_hit": self.cached.id}, output=raw,
            outcome="valid", cache_hit=True, semantic_hit=True,
        ))  # fmt: skip
        return Answer(value, raw, error, {"semantic_hit": 1})
