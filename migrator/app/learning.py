"""Learning from reviewers (docs/learning.md): examples from merged pull requests, the corrections
generalised from them (waves/learning.py), and those corrections applied at `migrator plan` time as
plan edits with provenance `learned`, so the generator's refusal path judges them like any edit.

Examples come only from pull requests that merged (the guarded merge ran the validators and the
guardrails on the merged files, or there would be no merge record) and carry a recorded approval.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from pydantic import ValidationError

from migrator.app.edits import _store, with_change
from migrator.app.workspace import Workspace
from migrator.errors import NotFound, UsageError
from migrator.store.models import LearnedCorrection, LearningExample, PullRequest
from migrator.store.prs import PullRequestStore
from migrator.store.snapshots import now
from transpilers.model import WaveInput
from waves.edits import Provenance, honoured_by, parse_edit
from waves.learning import Correction, Example, edits_for, generalise, matches, normalise, slots_of

ACTIVE = "active"
SUPERSEDED = "superseded"
FORGOTTEN = "forgotten"


def who(correction_id: int) -> str:
    """The provenance `who` of the edits a correction derives: the correction's id."""
    return f"correction L{correction_id}"


# ---- examples ----------------------------------------------------------------------------------


def _examples_of(ws: Workspace, pr: PullRequest, rows: list[dict[str, Any]]) -> list[LearningExample]:
    """One example per VM of the merged wave: facts, the learned values it carried, the fixes."""
    merged = PullRequestStore(ws.engine).merged(int(pr.id or 0))
    if not merged or not pr.approvals:
        return []
    record = merged[-1]
    document = ws.plans.get(pr.plan_id)
    names: list[str] = next((w["vms"] for w in document["waves"] if w["number"] == pr.wave), [])
    # a VM blocked by findings has no code to review: its silence is no evidence
    generated = [g for g in ws.generated.latest(pr.plan_id, pr.target) if g["wave"] == pr.wave]
    blocked = set(generated[0]["blocked"]) if generated else set()
    names = [n for n in names if n not in blocked]
    # the reviewers' edits, and a refinement's (source model) that the approver accepted by merging
    mine = [
        r
        for r in rows
        if r["pr"] == pr.id and r["source"] in ("reviewer", "model") and r["status"] != "refused"
    ]
    approver = str(pr.approvals[-1]["by"])
    learned = [r for r in rows if r["source"] == "learned" and r["status"] == "applied"]
    found = []
    for name in names:
        try:
            inventory = ws.store.vm(record.snapshot_id, name)
        except NotFound:  # a planning name made unique with its moref: no example rather than a guess
            continue
        disks = [str(d.get("label")) for d in inventory.get("disks") or []]
        fix: dict[str, str] = {}
        for r in (r for r in mine if r["vm"] == name):
            fix.update(slots_of(r["edit"], disks))
        answer: dict[str, str] = {}
        for r in (r for r in learned if r["vm"] == name):
            answer.update(slots_of(r["edit"], disks))
        found.append(
            LearningExample(
                pr=int(pr.id or 0),
                commit=record.merge_commit,
                approver=approver,
                merged_at=record.merged_at,
                target=pr.target,
                wave=pr.wave,
                vm=name,
                facts=normalise(inventory),
                disks=disks,
                answer=answer,
                fix=fix,
                reviewers=sorted(
                    {
                        str(r["who"]) if r["source"] == "reviewer" else approver
                        for r in mine
                        if r["vm"] == name
                    }
                ),
            )
        )
    return found


def collect_examples(ws: Workspace) -> int:
    """Store the examples of merged, approved PRs not read yet; how many were stored."""
    known = ws.learning.known_prs()
    fresh = [p for p in PullRequestStore(ws.engine).all() if p.status == "merged" and p.id not in known]
    if not fresh:
        return 0
    rows = ws.edits.list()
    examples = [e for pr in fresh for e in _examples_of(ws, pr, rows)]
    ws.learning.add_examples(examples)
    return len(examples)


def examples(ws: Workspace) -> list[Example]:
    """The stored examples in time order (the order of their PRs' merges)."""
    stored = ws.learning.examples()
    order = {pr: n for n, pr in enumerate(dict.fromkeys(e.pr for e in stored))}
    return [
        Example(e.pr, order[e.pr], e.vm, e.facts, e.disks, e.answer, e.fix, tuple(e.reviewers), e.approver)
        for e in stored
    ]


# ---- corrections -------------------------------------------------------------------------------


def refresh(ws: Workspace) -> list[LearnedCorrection]:
    """Learn again from every example: new corrections are added, changed ones updated, ones the
    evidence no longer supports superseded (their learned edits reverted); a forgotten one stays
    forgotten even when the evidence would learn it again."""
    collect_examples(ws)
    learned = {c.key: c for c in generalise(examples(ws))}
    rows = ws.learning.corrections()
    by_key = {(r.fact, r.fact_value, r.slot, r.value): r for r in rows}
    changed = []
    for key, c in learned.items():
        row = by_key.get(key) or LearnedCorrection(
            created_at=now(),
            updated_at=now(),
            fact=c.fact,
            fact_value=c.fact_value,
            slot=c.slot,
            value=c.value,
        )
        if row.status == FORGOTTEN:
            continue
        if row.id is None or _stats(row) != _stats_of(c) or row.status != ACTIVE:
            row.support, row.against, row.confidence = c.support, c.against, c.confidence
            row.prs, row.reviewers, row.status = list(c.prs), list(c.reviewers), ACTIVE
            changed.append(row)
    for row in rows:
        if row.status == ACTIVE and (row.fact, row.fact_value, row.slot, row.value) not in learned:
            row.status = SUPERSEDED
            changed.append(row)
            # its applied edits go (derived data); ones a person reverted stay, so they stay out
            ws.learning.delete_learned_edits(who(int(row.id or 0)), "applied")
    if changed:
        ws.learning.save_corrections(changed)
    return ws.learning.corrections()


def _stats(row: LearnedCorrection) -> tuple[Any, ...]:
    return (row.support, row.against, row.confidence, list(row.prs), list(row.reviewers))


def _stats_of(c: Correction) -> tuple[Any, ...]:
    return (c.support, c.against, c.confidence, list(c.prs), list(c.reviewers))


def _as_correction(row: LearnedCorrection) -> Correction:
    return Correction(
        row.fact,
        row.fact_value,
        row.slot,
        row.value,
        row.support,
        row.against,
        row.confidence,
        tuple(row.prs),
        tuple(row.reviewers),
    )


# ---- applying at `migrator plan` ---------------------------------------------------------------


def apply_learned(ws: Workspace, waves: Iterable[WaveInput], target: str) -> int:
    """Store the learned edits the plan's unreviewed VMs get; how many were added. A VM that was
    in a merged PR keeps what its reviewers merged, a slot a person or model edited keeps their
    edit, and an edit once derived (even if reverted or refused since) is not derived again."""
    rows = [r for r in refresh(ws) if r.status == ACTIVE]
    if not rows:
        return 0
    known = examples(ws)
    reviewed = {e.vm for e in known}
    ids = {(r.fact, r.fact_value, r.slot, r.value): int(r.id or 0) for r in rows}
    corrections = [_as_correction(r) for r in rows]
    stored = ws.edits.list()
    taken = {(r["who"], json.dumps(r["edit"], sort_keys=True)) for r in stored if r["source"] == "learned"}
    added = 0
    for wave in waves:
        for vm in wave.vms:
            if vm.name in reviewed:
                continue
            disks = [str(d.get("label")) for d in vm.record.get("disks") or []]
            human = {
                s
                for r in stored
                if r["vm"] == vm.name and r["status"] == "applied" and r["source"] != "learned"
                for s in slots_of(r["edit"], disks)
            }
            for m in matches(normalise(vm.record), disks, corrections, known):
                if m.correction.slot in human or (
                    target == "kubevirt" and m.correction.slot.startswith("volume:")
                ):
                    continue
                number = ids[m.correction.key]
                for data in edits_for(m.correction.slot, m.correction.value, vm.name, disks):
                    added += _derive(ws, data, number, m.correction, m.confidence, target, taken)
    return added


def _derive(
    ws: Workspace,
    data: dict[str, Any],
    number: int,
    correction: Correction,
    confidence: float,
    target: str,
    taken: set[tuple[str, str]],
) -> int:
    if not honoured_by(target, str(data["kind"]), data.get("cloud")):
        return 0
    try:
        edit = parse_edit(data)  # a value the vocabulary refuses never becomes an edit
    except ValidationError:
        return 0
    form = edit.model_dump(mode="json")
    if (who(number), json.dumps(form, sort_keys=True)) in taken:
        return 0
    prs = ", ".join(f"#{p}" for p in correction.prs[-6:])
    provenance = Provenance(
        source="learned",
        who=who(number),
        at=now(),
        pr=correction.prs[-1] if correction.prs else None,
        conversation=f"confidence {confidence:.2f}, from PR {prs}"[:200],
    )
    _store(ws, form, provenance, [])
    taken.add((who(number), json.dumps(form, sort_keys=True)))
    return 1


# ---- `migrator learn` ----------------------------------------------------------------------------


def _row(ws_edits: list[dict[str, Any]], row: LearnedCorrection) -> dict[str, Any]:
    derived = [e for e in ws_edits if e["source"] == "learned" and e["who"] == who(int(row.id or 0))]
    counts = {s: sum(e["status"] == s for e in derived) for s in ("applied", "refused", "reverted")}
    return {
        "id": row.id,
        "status": row.status,
        "rule": _as_correction(row).describe(),
        "fact": row.fact,
        "fact_value": row.fact_value,
        "slot": row.slot,
        "value": row.value,
        "support": row.support,
        "against": row.against,
        "confidence": row.confidence,
        "prs": list(row.prs),
        "reviewers": list(row.reviewers),
        "edits": counts,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def status(ws: Workspace) -> dict[str, Any]:
    rows = refresh(ws)
    stored = ws.edits.list()
    return {
        "examples": len(ws.learning.examples()),
        "prs": sorted(ws.learning.known_prs()),
        "corrections": [_row(stored, r) for r in rows],
    }


def show(ws: Workspace, correction_id: int) -> dict[str, Any]:
    refresh(ws)
    row = ws.learning.correction(correction_id)
    stored = ws.edits.list()
    shown = _row(stored, row)
    shown["derived_edits"] = [
        with_change(e) for e in stored if e["source"] == "learned" and e["who"] == who(correction_id)
    ]
    return shown


def forget(ws: Workspace, correction_id: int) -> dict[str, Any]:
    """Forget a correction: it is never learned again, and the edits derived from it are removed."""
    row = ws.learning.correction(correction_id)
    if row.status == FORGOTTEN:
        raise UsageError(f"learned correction {correction_id} is already forgotten")
    removed = ws.learning.delete_learned_edits(who(correction_id))
    row.status = FORGOTTEN
    ws.learning.save_corrections([row])
    return {"id": correction_id, "status": FORGOTTEN, "removed_edits": removed}
