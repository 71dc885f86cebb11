"""`migrator interpret`: typed facts from VM names, annotations, custom attributes and tags.

Offline (no MIGRATOR_LLM / MIGRATOR_LLM_INTERPRET) the deterministic interpreter answers; with a
model its facts are added after every safety check of agents/interpreter/interpretation.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.interpreter.interpretation import (
    PROMPT_VERSION,
    Fact,
    FactsInterpreter,
    Interpretation,
    deterministic,
    replay,
    with_model,
)
from agents.llm.client import ChatClient
from agents.llm.factory import client_for
from migrator.app.cmdb import with_cmdb
from migrator.app.inventory import snapshot_vms
from migrator.app.workspace import Workspace
from migrator.errors import NotFound
from migrator.store.snapshots import COMPLETE
from waves.facts import CMDB_FIELDS, NameIndex, facts_of
from waves.parameters import PlanParameters


@dataclass(frozen=True)
class InterpretResult:
    snapshot_id: int
    model: str | None  # None: the deterministic interpreter alone
    interpretations: list[Interpretation]

    def as_dict(self) -> dict[str, Any]:
        return {
            "snapshot": self.snapshot_id,
            "model": self.model,
            "vms": [i.as_dict() for i in self.interpretations],
        }

    def interpreter(self) -> FactsInterpreter:
        """For the planner: the depends_on facts through the waves ReferenceInterpreter seam."""
        return FactsInterpreter(self.interpretations)


def interpret(
    ws: Workspace,
    vm: str | None = None,
    snapshot: int | None = None,
    client: ChatClient | None = None,
    params: PlanParameters | None = None,
    command: str = "interpret",
) -> InterpretResult:
    """One VM (by exact or unique case-insensitive name) or, with vm=None, every VM of the snapshot."""
    params = params or PlanParameters()
    snap = snapshot_vms(ws, snapshot)
    names = NameIndex(facts_of(v, params) for v in snap.vms)
    chosen = snap.vms if vm is None else _choose(snap.vms, vm)
    client = client if client is not None else client_for("interpret", ws.llm)
    if client is None:
        return InterpretResult(snap.snapshot_id, None, [deterministic(r, params, names) for r in chosen])
    from migrator.app.interpret_examples import retriever  # it reads vm_facts (below)

    examples = retriever(ws)
    out = []
    for record in chosen:
        shots = [(c.text, c.answer) for c in examples.similar(record)] if examples is not None else []
        out.append(
            with_model(record, params, names, client, snapshot=snap.snapshot_id, command=command, shots=shots)
        )
    return InterpretResult(snap.snapshot_id, client.spec.id, out)


def _choose(vms: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    exact = [v for v in vms if v.get("name") == name]
    if not exact:
        exact = [v for v in vms if str(v.get("name", "")).lower() == name.lower()]
    if len(exact) != 1:
        raise NotFound(f"no VM named '{name}' in this snapshot" if not exact else f"'{name}' is ambiguous")
    return exact


# -- one VM's facts with provenance (waves explain, the dashboard's VM page) ------------------
CMDB_KINDS = {"app": "application", "env": "environment", "criticality": "criticality", "owner": "owner"}
CMDB_CONFIDENCE = 0.9  # a CMDB states facts, but below what vCenter itself states


@dataclass(frozen=True)
class ProvenancedFact:
    kind: str  # role | tier | application | environment | criticality | owner | depends_on | constraint
    value: str
    confidence: float
    source: str  # inventory | cmdb | naming | annotation | model
    field: str  # where the text was: "name", "annotation", "custom attribute App", "CMDB owner", ...
    span: str  # the exact text the fact came from
    model: str | None  # the model's identity when source == "model"
    prompt_version: str | None  # its prompt template version when source == "model"

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


@dataclass(frozen=True)
class VMFacts:
    vm: str
    snapshot_id: int
    facts: list[ProvenancedFact]
    findings: list[dict[str, str]]  # injection attempts in its text, refused model facts
    conflicts: list[str]  # where a model contradicted the inventory
    interaction: int | None  # the llm_interactions row the model facts were replayed from

    def as_dict(self) -> dict[str, Any]:
        return {
            "vm": self.vm,
            "snapshot": self.snapshot_id,
            "facts": [f.as_dict() for f in self.facts],
            "findings": self.findings,
            "conflicts": self.conflicts,
            "interaction": self.interaction,
        }


def vm_facts(
    ws: Workspace, vm: str, snapshot: int | None = None, params: PlanParameters | None = None
) -> VMFacts:
    """One VM's interpreted facts with their source. No model is asked: model facts are the newest
    recorded answer about this VM and snapshot, checked again exactly as when it arrived."""
    params = params or PlanParameters()
    estate = _estate(ws, snapshot, params)
    return _facts_for(ws, estate, _choose(estate.vms, vm)[0], params)


def wave_facts(
    ws: Workspace, vms: list[str], snapshot: int, params: PlanParameters | None = None
) -> list[VMFacts]:
    """`vm_facts` of many VMs of one snapshot (a wave's, for PLAN.md) with one pass over it."""
    params = params or PlanParameters()
    estate = _estate(ws, snapshot, params)
    by_name = {str(v.get("name")): v for v in estate.vms}
    return [_facts_for(ws, estate, by_name[name], params) for name in vms if name in by_name]


@dataclass(frozen=True)
class _Estate:
    """A complete snapshot's VMs (with their CMDB items) and its name index, as facts need them."""

    snapshot_id: int
    vms: list[dict[str, Any]]
    names: NameIndex


_ESTATES: dict[tuple[Any, ...], _Estate] = {}  # the last one: a snapshot never changes once complete


def _estate(ws: Workspace, snapshot: int | None, params: PlanParameters) -> _Estate:
    snap = ws.store.get(snapshot)
    cmdb = ws.cmdb.latest()
    key = (*ws.cache_key, snap.id, snap.status, cmdb.import_id if cmdb else None, params)
    estate = _ESTATES.get(key)
    if estate is None:
        vms = snapshot_vms(ws, snap.id)
        names = NameIndex(facts_of(v, params) for v in vms.vms)
        estate = _Estate(vms.snapshot_id, with_cmdb(vms.vms, cmdb), names)
        if snap.status == COMPLETE:
            _ESTATES.clear()  # dashboard threads may race here: each keeps its own local estate
            _ESTATES[key] = estate
    return estate


def _facts_for(ws: Workspace, estate: _Estate, record: dict[str, Any], params: PlanParameters) -> VMFacts:
    it, answer = recorded(ws, record, estate.snapshot_id, params, estate.names)
    version = None if answer is None else str(answer["prompt_version"])
    facts = _with_cmdb_facts([_provenanced(f, version) for f in it.facts], record)
    return VMFacts(
        it.vm,
        estate.snapshot_id,
        facts,
        [f.as_dict() for f in it.findings],
        it.conflicts,
        None if answer is None else int(answer["interaction"]),
    )


def recorded(
    ws: Workspace, record: dict[str, Any], snapshot: int, params: PlanParameters, names: NameIndex
) -> tuple[Interpretation, dict[str, Any] | None]:
    """The VM's interpretation as last recorded: the deterministic one plus the newest accepted model
    answer about it, replayed through every check (no model asked); and that answer's record."""
    answer = ws.llm.latest_answer("interpret", snapshot, str(record.get("name")))
    if answer is None:
        return deterministic(record, params, names), None
    return replay(record, params, names, answer["model"], answer["output"]), answer


def _provenanced(fact: Fact, prompt_version: str | None) -> ProvenancedFact:
    if fact.origin.startswith("model:"):
        source, model = "model", fact.origin.removeprefix("model:")
    else:
        source, model, prompt_version = fact.origin, None, None
        if source == "pattern":
            source = "naming" if fact.field == "name" else "annotation"
    version = prompt_version or (PROMPT_VERSION if model else None)
    return ProvenancedFact(
        fact.kind, fact.value, fact.confidence, source, fact.field, fact.span, model, version
    )


def _with_cmdb_facts(facts: list[ProvenancedFact], record: dict[str, Any]) -> list[ProvenancedFact]:
    """The CMDB fills what vCenter does not state (docs/drift.md); facts of other sources for
    the same single-valued kind then yield to it, as in the planner."""
    ci = record.get("cmdb") or {}
    stated = {f.kind for f in facts if f.source == "inventory"}
    added = []
    for fact, cmdb_field in CMDB_FIELDS.items():
        kind, value = CMDB_KINDS[fact], ci.get(cmdb_field)
        if value and kind not in stated:
            column = (ci.get("columns") or {}).get(cmdb_field, cmdb_field)
            added.append(
                ProvenancedFact(
                    kind, str(value), CMDB_CONFIDENCE, "cmdb", f"CMDB {column}", str(value), None, None
                )
            )
    replaced = {f.kind for f in added}
    return [f for f in facts if f.kind not in replaced] + added
