"""`migrator interpret`: typed facts from VM names, annotations, custom attributes and tags.

Offline (no MIGRATOR_LLM / MIGRATOR_LLM_INTERPRET) the deterministic interpreter answers; with a
model its facts are added after every safety check of agents/interpretation.py.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from agents.interpretation import FactsInterpreter, Interpretation, deterministic, with_model
from agents.llm.client import ChatClient
from agents.llm.factory import client_for
from migrator.app.inventory import snapshot_vms
from migrator.app.workspace import Workspace
from migrator.errors import NotFound
from waves.facts import NameIndex, facts_of
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
    out = []
    for record in chosen:
        if client is None:
            out.append(deterministic(record, params, names))
        else:
            out.append(with_model(record, params, names, client, snapshot=snap.snapshot_id, command=command))
    return InterpretResult(snap.snapshot_id, None if client is None else client.spec.id, out)


def _choose(vms: list[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    exact = [v for v in vms if v.get("name") == name]
    if not exact:
        exact = [v for v in vms if str(v.get("name", "")).lower() == name.lower()]
    if len(exact) != 1:
        raise NotFound(f"no VM named '{name}' in this snapshot" if not exact else f"'{name}' is ambiguous")
    return exact
