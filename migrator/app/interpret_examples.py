"""Few-shot examples for `migrator interpret` (docs/learning.md#interpret-with-retrieved-examples):
interpretations that reviewers confirmed, retrieved by embedding of the VM's text.

A confirmed interpretation is one VM of a merged pull request with a recorded approval (a
learning example): its PLAN.md listed the VM's interpreted facts with their source (`waves
explain` shows the same), and the approver merged it. The example is that VM's text (the fields a
model is shown: name, annotation, custom attributes, tags, cleaned) and those facts in the answer
schema, with the span each came from. CMDB facts are left out (their text is not in the VM's, so
no span can be copied). No record says a reviewer corrected a fact, so none is a correction.

Poisoning: an example whose text trips the injection detector is never stored or shown; the text
is cleaned, put on one line inside `<data>` with `<` and `>` escaped (retrieval.py's form).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray

from agents.interpreter.safety import allowed_fields, detect
from agents.llm.embed import EmbeddingModelMissing, embed
from migrator.app.interpret import vm_facts
from migrator.app.learning import collect_examples
from migrator.app.workspace import Workspace
from migrator.errors import NotFound
from migrator.store.embeddings import EmbeddingStore, pack
from migrator.store.models import Embedding, LearningExample
from migrator.store.prs import PullRequestStore
from migrator.store.snapshots import now

K = 3
KIND = "interpret"  # rows of the embeddings table: one per confirmed interpretation
TARGET = ""  # interpretation does not depend on the target: one row per VM and PR
TEXT_CAP = 600
Embed = Callable[[str], NDArray[np.float32]]


@dataclass(frozen=True)
class Confirmed:
    vm: str
    text: str  # the VM's fields as one JSON line (what is embedded and shown)
    answer: dict[str, Any]  # {"facts": [...]} in the interpret answer schema
    provenance: str
    score: float = 0.0


def vm_text(record: dict[str, Any]) -> str:
    """A VM's fields as a model sees them, on one line (capped)."""
    return json.dumps(allowed_fields(record), ensure_ascii=False, sort_keys=True)[:TEXT_CAP]


def confirmed(ws: Workspace, example: LearningExample) -> Confirmed | None:
    """The interpretation the example's PR listed for its VM, or None: no snapshot record, text
    that trips the injection detector, or no fact with a span in the VM's text."""
    merged = PullRequestStore(ws.engine).merged(example.pr)
    if not merged:
        return None
    snapshot = merged[-1].snapshot_id
    try:
        record = ws.store.vm(snapshot, example.vm)
        shown = vm_facts(ws, example.vm, snapshot)
    except NotFound:
        return None
    fields = allowed_fields(record)
    if detect(example.vm, fields):
        return None
    facts = [
        {"kind": f.kind, "value": f.value, "span": f.span, "confidence": round(f.confidence, 2)}
        for f in shown.facts
        if f.source != "cmdb" and f.span and any(f.span in text for text in fields.values())
    ]
    if not facts:
        return None
    provenance = f"PR #{example.pr}, approved by {example.approver[:80]}, merge {example.commit[:12]}"
    return Confirmed(example.vm, vm_text(record), {"facts": facts}, provenance)


def sync(ws: Workspace, embed_: Embed) -> dict[int, Confirmed]:
    """The confirmed interpretations by example id; the new ones embedded and stored once."""
    store = EmbeddingStore(ws.engine)
    done = store.refs(KIND)
    found: dict[int, Confirmed] = {}
    seen: set[str] = set()
    for example in ws.learning.examples():
        if example.id is None or example.vm in seen:  # one per VM: its first merged PR
            continue
        item = confirmed(ws, example)
        if item is None:
            continue
        seen.add(example.vm)
        found[example.id] = item
        if example.id not in done:
            store.add(Embedding(created_at=now(), kind=KIND, ref=example.id, target=TARGET, text=item.text,
                                vector=pack(embed_(item.text)), answer=item.answer))  # fmt: skip
    return found


class Retriever:
    """The confirmed interpretations of a workspace, read and embedded once per `interpret` run."""

    def __init__(self, ws: Workspace, embed_: Embed) -> None:
        self.ws, self.embed = ws, embed_
        self.known = sync(ws, embed_)

    def similar(self, record: dict[str, Any], k: int = K) -> list[Confirmed]:
        """The k confirmed interpretations of OTHER VMs most similar to this VM's text, most
        similar last (a small model copies the last example it sees)."""
        if not self.known:
            return []
        name = str(record.get("name"))
        query = self.embed(vm_text(record))
        hits = EmbeddingStore(self.ws.engine).nearest(query, KIND, k + 1, TARGET)
        out = []
        for hit in hits:
            item = self.known.get(hit.row.ref or -1)
            if item is not None and item.vm != name:
                out.append(Confirmed(item.vm, item.text, item.answer, item.provenance, hit.score))
        return out[:k][::-1]


def retriever(ws: Workspace) -> Retriever | None:
    """`interpret`'s examples: None without merged, approved PRs, or without the embedding model
    (the prompt is then the one without examples)."""
    collect_examples(ws)
    if not ws.learning.examples():
        return None
    try:
        return Retriever(ws, embed)
    except EmbeddingModelMissing:
        return None
