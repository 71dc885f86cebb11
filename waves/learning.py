"""Learning from reviewers, the deterministic path (docs/learning.md): examples in, learned
corrections out, and the corrections turned back into plan edits for VMs with matching facts.

Pure functions over plain data, below the application and the agents so that `migrator plan`
(migrator/app/learning.py) and the replay (agents/eval/replay.py) generalise the same way.

An example is one VM of a merged pull request: its normalised facts (the query), the values
migrator's plan gave it (the answer) and the values the reviewer's merged edits set (the fix),
each value in a *slot* (the instance family, the data disks' volume settings, one tag key...).
A correction says: VMs whose fact F is V get value X in slot S. It is learned when reviewers
chose X consistently (see MIN_* below), never from one reviewer's one-off edit.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from waves.facts import NONPROD_VALUES, lookup
from waves.sizing import size_entry

# The facts a correction can be keyed by, normalised so that spelling does not split evidence.
FACT_KEYS = ("role", "application", "os", "environment", "size")
# Nearest neighbours compare these (an application name identifies, it does not describe).
NEIGHBOUR_KEYS = ("role", "os", "environment", "size")
UNKNOWN = "unknown"
KEEP = "(as generated)"  # a vote for whatever migrator generated, when the value is not known

# Thresholds (docs/learning.md "When an edit generalises").
MIN_EDITED_PRS = 2  # reviewers chose the value in at least two merged PRs...
MIN_SUPPORT = 3  # ...for at least three VMs with the fact (edited or kept once learned)
MIN_CONFIDENCE = 0.85  # ...and at least 85% of the VMs with the fact ended with that value
MIN_NEIGHBOURS = 3  # nearest neighbours: at least three reviewed VMs alike in every other fact
NEIGHBOUR_SHARE = 0.8  # of which 80% have the fact value the correction is keyed by

ROLE_WORDS = {
    "database": ("db", "database", "sql", "mssql", "mysql", "postgres", "postgresql", "oracle", "mongo"),
    "web": ("web", "www", "frontend", "front", "nginx", "iis", "http"),
    "app": ("app", "application", "backend", "api", "svc", "service"),
}
# Slots learned from each edit kind; the rest (sizes, regions, namespaces, networks, port rules,
# pins, windows, spread sets) are specific to one VM or one wave, or open access: never learned.
VM_SLOTS = {"storage-class": "storage_class", "nic-model": "model", "boot-bus": "bus"}


@dataclass(frozen=True)
class Example:
    """One reviewed VM of one merged PR, with the provenance the correction will cite."""

    pr: int
    order: int  # time order of the PRs (merge time): later evidence has a larger order
    vm: str
    facts: Mapping[str, str]
    disks: Sequence[str]  # disk labels, boot disk first
    answer: Mapping[str, str]  # slot -> value migrator generated (where known)
    fix: Mapping[str, str]  # slot -> value the reviewer's merged edits set
    reviewers: Sequence[str] = ()
    approver: str = ""

    def vote(self, slot: str) -> str:
        return self.fix.get(slot) or self.answer.get(slot) or KEEP


@dataclass(frozen=True)
class Correction:
    fact: str
    fact_value: str
    slot: str
    value: str
    support: int  # VMs with the fact whose merged value is `value` (since `since_order`)
    against: int  # VMs with the fact that ended otherwise
    confidence: float
    prs: tuple[int, ...]  # PRs whose reviewers chose the value (edited it)
    reviewers: tuple[str, ...]
    since_order: int = 0  # evidence older than this was superseded by a changed preference

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.fact, self.fact_value, self.slot, self.value)

    def describe(self) -> str:
        return f"VMs with {self.fact} {self.fact_value}: {describe_action(self.slot, self.value)}"


def describe_action(slot: str, value: str) -> str:
    if slot.startswith("tag:"):
        return f"tag {slot[4:]}={value}"
    if slot.startswith("volume:"):
        settings = ", ".join(f"{k} {v}" for k, v in json.loads(value).items())
        return f"{slot[7:]} disks {settings}"
    if slot.startswith("size-family:"):
        return f"{slot.split(':')[1]} size family {value}"
    if slot.startswith("disk-type:"):
        _, cloud, which = slot.split(":")
        return f"{which} disks {cloud} type {value}"
    return f"{slot} {value}"


# ---- facts ---------------------------------------------------------------------------------


def _word(text: str) -> str:
    """A fact value as a short lowercase token (inventory text is data: matched, never obeyed)."""
    cleaned = re.sub(r"[^a-z0-9._-]+", "-", text.strip().lower()).strip("-")
    return cleaned[:64] or UNKNOWN


def _role(record: Mapping[str, Any]) -> str:
    stated, _ = lookup(dict(record), ("tier", "role"))
    tokens = re.split(r"[^a-z]+", (stated or str(record.get("name", ""))).lower())
    for role, words in ROLE_WORDS.items():
        if any(t in words for t in tokens):
            return role
    return _word(stated) if stated else UNKNOWN


def size_class(vcpu: int, memory_mb: int) -> str:
    if vcpu <= 2 and memory_mb <= 8192:
        return "small"
    if vcpu <= 8 and memory_mb <= 65536:
        return "medium"
    return "large"


def normalise(record: Mapping[str, Any]) -> dict[str, str]:
    """The facts a correction is keyed by, from an inventory VM record."""
    app, _ = lookup(dict(record), ("app", "application"))
    env, _ = lookup(dict(record), ("env", "environment"))
    guest = str(record.get("guest_id") or record.get("guest_full_name") or "").lower()
    os = "windows" if "win" in guest else ("linux" if guest else UNKNOWN)
    return {
        "role": _role(record),
        "application": _word(app) if app else UNKNOWN,
        "os": os,
        "environment": "nonprod" if env and env.strip().lower() in NONPROD_VALUES else "prod",
        "size": size_class(int(record.get("num_cpu") or 1), int(record.get("memory_mb") or 1024)),
    }


# ---- edits <-> slots -----------------------------------------------------------------------


def family_of(instance_type: str) -> str:
    return instance_type.split(".", 1)[0]


def volume_value(edit: Mapping[str, Any]) -> str | None:
    """The settings of a volume edit that describe a class of disk (not its size)."""
    settings = {k: edit[k] for k in ("type", "iops", "throughput") if edit.get(k) is not None}
    return json.dumps(settings, sort_keys=True) if settings else None


def slots_of(edit: Mapping[str, Any], disks: Sequence[str]) -> dict[str, str]:
    """The slots a typed edit (its JSON form) sets; empty for kinds that are never learned."""
    kind = edit.get("kind")
    if kind == "instance-type":
        return {"instance-family": family_of(str(edit["instance_type"]))}
    if kind == "instance-family":
        return {"instance-family": str(edit["family"])}
    if kind == "volume":
        value = volume_value(edit)
        boot = bool(disks) and edit.get("disk") == disks[0]
        return {f"volume:{'boot' if boot else 'data'}": value} if value else {}
    if kind == "tags":
        return {f"tag:{k}": str(v) for k, v in dict(edit["tags"]).items()}
    if kind in VM_SLOTS:
        return {str(kind): str(edit[VM_SLOTS[str(kind)]])}
    return _cloud_slots(edit, disks)


def _cloud_slots(edit: Mapping[str, Any], disks: Sequence[str]) -> dict[str, str]:
    """Azure and Google sizes are learned as their family (as AWS types are); disk types per cloud
    as the boot or data disks' type. An OpenStack flavor is the user's name for one size: never
    learned."""
    kind, cloud = edit.get("kind"), str(edit.get("cloud"))
    if kind == "vm-size" and cloud in ("azure", "gcp"):
        entry = size_entry(cloud, str(edit["size"]))
        return {f"size-family:{cloud}": str(entry["family"])} if entry else {}
    if kind == "size-family":
        return {f"size-family:{cloud}": str(edit["family"])}
    if kind == "disk-type":
        boot = bool(disks) and edit.get("disk") == disks[0]
        return {f"disk-type:{cloud}:{'boot' if boot else 'data'}": str(edit["type"])}
    return {}


def edits_for(slot: str, value: str, vm: str, disks: Sequence[str]) -> list[dict[str, Any]]:
    """The typed edits (JSON form) that give one VM a slot's value."""
    if slot == "instance-family":
        return [{"kind": "instance-family", "vm": vm, "family": value}]
    if slot.startswith("volume:"):
        chosen = disks[:1] if slot == "volume:boot" else disks[1:]
        return [{"kind": "volume", "vm": vm, "disk": d, **json.loads(value)} for d in chosen]
    if slot.startswith("tag:"):
        return [{"kind": "tags", "vm": vm, "tags": {slot[4:]: value}}]
    if slot in VM_SLOTS:
        return [{"kind": slot, "vm": vm, VM_SLOTS[slot]: value}]
    if slot.startswith("size-family:"):
        return [{"kind": "size-family", "vm": vm, "cloud": slot.split(":")[1], "family": value}]
    if slot.startswith("disk-type:"):
        _, cloud, which = slot.split(":")
        chosen = disks[:1] if which == "boot" else disks[1:]
        return [{"kind": "disk-type", "vm": vm, "disk": d, "cloud": cloud, "type": value} for d in chosen]
    return []


def applicable(slot: str, disks: Sequence[str]) -> bool:
    return not (slot == "volume:data" or slot.endswith(":data")) or len(disks) > 1


# ---- generalising ----------------------------------------------------------------------------


@dataclass
class _Evidence:
    by_pr: dict[tuple[int, int], Counter[str]] = field(default_factory=dict)  # (order, pr) -> votes
    edited: dict[str, set[int]] = field(default_factory=dict)  # value -> PRs that edited to it
    reviewers: dict[str, set[str]] = field(default_factory=dict)


def _regime_start(majorities: list[str]) -> int:
    """Where the current preference starts. A value that two consecutive PRs agree on, after an
    earlier established value (also agreed on by two consecutive PRs), supersedes it: older
    evidence is dropped. A single PR that disagrees only lowers the confidence."""
    start, established, i = 0, None, 0
    while i < len(majorities):
        j = i
        while j < len(majorities) and majorities[j] == majorities[i]:
            j += 1
        if j - i >= 2:
            if established is not None and majorities[i] != established:
                start = i
            established = majorities[i]
        i = j
    return start


def _correction(fact: str, value: str, slot: str, ev: _Evidence) -> Correction | None:
    keys = sorted(ev.by_pr)
    majorities = [ev.by_pr[k].most_common(1)[0][0] for k in keys]
    start = _regime_start(majorities)
    votes: Counter[str] = Counter()
    last_seen: dict[str, int] = {}
    for n, k in enumerate(keys[start:]):
        votes.update(ev.by_pr[k])
        for v in ev.by_pr[k]:
            last_seen[v] = n
    # the most votes; a tie goes to the newer evidence
    top = max(votes, key=lambda v: (votes[v], last_seen[v]))
    total = sum(votes.values())
    prs = {pr for order, pr in keys[start:]} & ev.edited.get(top, set())
    confidence = votes[top] / total
    if top == KEEP or len(prs) < MIN_EDITED_PRS or votes[top] < MIN_SUPPORT or confidence < MIN_CONFIDENCE:
        return None
    return Correction(
        fact,
        value,
        slot,
        top,
        votes[top],
        total - votes[top],
        round(confidence, 3),
        tuple(sorted(prs)),
        tuple(sorted(ev.reviewers.get(top, set()))),
        keys[start][0],
    )


def generalise(examples: Iterable[Example]) -> list[Correction]:
    """The corrections the examples support, in a stable order (fact, value, slot)."""
    examples = list(examples)
    slots = sorted({s for e in examples for s in e.fix})
    evidence: dict[tuple[str, str, str], _Evidence] = {}
    for e in examples:
        for slot in slots:
            if not applicable(slot, e.disks):
                continue
            vote = e.vote(slot)
            for fact in FACT_KEYS:
                fact_value = e.facts.get(fact, UNKNOWN)
                if fact_value == UNKNOWN:
                    continue
                ev = evidence.setdefault((fact, fact_value, slot), _Evidence())
                ev.by_pr.setdefault((e.order, e.pr), Counter())[vote] += 1
                if slot in e.fix:
                    ev.edited.setdefault(vote, set()).add(e.pr)
                    ev.reviewers.setdefault(vote, set()).update(e.reviewers)
    found = []
    for (fact, fact_value, slot), ev in sorted(evidence.items()):
        if any(vote != KEEP for c in ev.by_pr.values() for vote in c) and ev.edited:
            correction = _correction(fact, fact_value, slot, ev)
            if correction is not None:
                found.append(correction)
    return found


# ---- applying --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Match:
    correction: Correction
    confidence: float  # the correction's, scaled down for a nearest-neighbour match
    neighbour: bool = False


def _neighbour_value(facts: Mapping[str, str], fact: str, examples: Sequence[Example]) -> tuple[str, float]:
    """The value of an unknown fact that the reviewed VMs alike in every other fact mostly have."""
    others = [k for k in NEIGHBOUR_KEYS if k != fact]
    alike = [
        e.facts.get(fact, UNKNOWN)
        for e in examples
        if e.facts.get(fact, UNKNOWN) != UNKNOWN and all(e.facts.get(k) == facts.get(k) for k in others)
    ]
    if len(alike) < MIN_NEIGHBOURS:
        return UNKNOWN, 0.0
    value, n = Counter(alike).most_common(1)[0]
    share = n / len(alike)
    return (value, share) if share >= NEIGHBOUR_SHARE else (UNKNOWN, 0.0)


def matches(
    facts: Mapping[str, str],
    disks: Sequence[str],
    corrections: Sequence[Correction],
    examples: Sequence[Example] = (),
) -> list[Match]:
    """The correction applied per slot to a VM: an exact fact match, else a nearest-neighbour one
    for a fact the VM lacks; per slot the highest confidence wins, then the most support."""
    inferred = {
        k: _neighbour_value(facts, k, examples) for k in NEIGHBOUR_KEYS if facts.get(k, UNKNOWN) == UNKNOWN
    }
    best: dict[str, Match] = {}
    for c in corrections:
        if not applicable(c.slot, disks):
            continue
        if facts.get(c.fact) == c.fact_value:
            match = Match(c, c.confidence)
        elif inferred.get(c.fact, (UNKNOWN, 0.0))[0] == c.fact_value:
            match = Match(c, round(c.confidence * inferred[c.fact][1], 3), neighbour=True)
            if match.confidence < MIN_CONFIDENCE:
                continue
        else:
            continue
        held = best.get(c.slot)
        if held is None or (match.confidence, c.support) > (held.confidence, held.correction.support):
            best[c.slot] = match
    return [best[s] for s in sorted(best)]
