"""The model path of learning (docs/learning.md#the-model-path): the merged examples most similar
to a refinement request, by embedding (agents/llm/embed.py), as few-shot examples for
`plan refine`, most similar last.

An example is one VM of a merged, approved PR with the fix its reviewers merged; its text (facts
and fix) is embedded once and stored (table `embeddings`, kind `example`). Only fixes the
target's refine schema can express become examples (an `instance-family` fix as the aws schema's
`instance-family` kind; never a size). Inventory
text inside an example is data: it is cleaned, shown on one line, and an example whose text
trips the injection detector is never shown.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agents.interpreter.safety import clean, detect
from agents.llm.embed import EmbeddingModelMissing, embed
from migrator.app.learning import collect_examples
from migrator.app.workspace import Workspace
from migrator.store.embeddings import EmbeddingStore, pack
from migrator.store.models import Embedding, LearningExample
from migrator.store.snapshots import now
from waves.learning import VM_SLOTS, describe_action

K = 3  # examples shown (the default; GUIDE: the 3 most similar lifted 0 -> 4 of 10)
TEXT_CAP = 300

Embed = Callable[[str], NDArray[np.float32]]


@dataclass(frozen=True)
class Retrieved:
    request: str  # the example's request, as shown to the model (one cleaned line)
    answer: dict[str, Any]  # {"edits": [...], "question": ""} in the refine schema's form
    provenance: str  # PR, approver, merge commit
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"request": self.request, "answer": self.answer, "provenance": self.provenance,
                "score": round(self.score, 4)}  # fmt: skip


def model_edits(example: LearningExample, kinds: Sequence[str]) -> list[dict[str, Any]]:
    """The example's fix as edits of the refine schema (target `vm: NAME`), kinds allowed only."""
    vm = clean(example.vm, 80)
    edits: list[dict[str, Any]] = []
    for slot, value in sorted(example.fix.items()):
        if slot.startswith("tag:") and "tags" in kinds:
            edits.append(
                {"kind": "tags", "target": f"vm: {vm}", "key": clean(slot[4:], 80), "value": clean(value, 80)}
            )
        elif slot.startswith("volume:") and "volume" in kinds:
            chosen = example.disks[:1] if slot == "volume:boot" else example.disks[1:]
            edits += [
                {"kind": "volume", "target": f"vm: {vm}", "disk": d, **json.loads(value)} for d in chosen
            ]
        elif slot == "instance-family" and slot in kinds:
            edits.append({"kind": slot, "target": f"vm: {vm}", "family": clean(value, 16)})
        elif slot in VM_SLOTS and slot in kinds:
            edits.append({"kind": slot, "target": f"vm: {vm}", VM_SLOTS[slot]: clean(value, 80)})
    return edits


def example_text(example: LearningExample) -> str:
    """What is embedded and shown as the example's request: the fix, then the VM's facts."""
    actions = "; ".join(describe_action(s, v) for s, v in sorted(example.fix.items()))
    facts = ", ".join(f"{k} {v}" for k, v in sorted(example.facts.items()))
    return clean(f"{actions} for {example.vm} ({facts})".replace("\n", " "), TEXT_CAP)


def safe(text: str) -> bool:
    return not detect("example", {"example": text})


def sync_examples(ws: Workspace, embed: Embed) -> int:
    """Embed the stored examples that have a fix and no vector yet; how many were embedded."""
    store = EmbeddingStore(ws.engine)
    done = store.refs("example")
    added = 0
    for example in ws.learning.examples():
        if example.id is None or example.id in done or not example.fix:
            continue
        text = example_text(example)
        store.add(
            Embedding(
                created_at=now(),
                kind="example",
                ref=example.id,
                target=example.target,
                text=text,
                vector=pack(embed(text)),
            )
        )
        added += 1
    return added


def similar(
    ws: Workspace, target: str, request: str, kinds: Sequence[str], embed: Embed, k: int = K
) -> list[Retrieved]:
    """The k merged examples of the target most similar to the request that its schema can express, most
    similar LAST (a small model copies the last example it is shown)."""
    sync_examples(ws, embed)
    store = EmbeddingStore(ws.engine)
    by_id = {e.id: e for e in ws.learning.examples()}
    query = embed(request)
    wanted = 4 * k  # some nearest may be unsafe or inexpressible: ask for more, then all
    while True:
        hits = store.nearest(query, "example", k=wanted, target=target)
        found: list[Retrieved] = []
        for hit in hits:
            example = by_id.get(hit.row.ref)
            shown = as_retrieved(example, hit.row.text, hit.score, kinds) if example is not None else None
            if shown is not None:
                found.append(shown)
            if len(found) == k:
                return found[::-1]
        if len(hits) < wanted:  # every row was ranked
            return found[::-1]
        wanted *= 4


def as_retrieved(example: LearningExample, text: str, score: float, kinds: Sequence[str]) -> Retrieved | None:
    """The example as a few-shot example, or None when the schema cannot express its fix or its
    text trips the injection detector (then it is never shown)."""
    edits = model_edits(example, kinds)
    if not edits or not safe(text):
        return None
    merge = f", merge {example.commit[:12]}" if example.commit else ""
    provenance = f"PR #{example.pr}, approved by {clean(example.approver, 80)}{merge}"
    return Retrieved(text, {"edits": edits, "question": ""}, provenance, score)


def retrieve(ws: Workspace, target: str, request: str, kinds: Sequence[str]) -> list[Retrieved]:
    """`plan refine`'s few-shot examples from this workspace: none when it has no examples with a
    fix (the fixed examples are used), or when the embedding model is not installed (then the
    fixed examples too: the model path is an addition, never a requirement)."""
    collect_examples(ws)
    if not any(e.fix for e in ws.learning.examples()):
        return []
    try:
        return similar(ws, target, request, kinds, embed)
    except EmbeddingModelMissing:
        return []
