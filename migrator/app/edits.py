"""Plan edits (docs/edits.md): add, list, show and revert the typed changes to the generated plan,
and choose the ones `migrator plan` applies to a wave.

An edit is checked where it enters: against its JSON Schema and the catalogue (waves/edits.py),
then against the latest plan (the VM, its disk, the wave exist). One that fails is stored as
refused with the reason, so the history shows what was asked and why it was not done.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from migrator.app.audit import record as audit
from migrator.app.identities import Actor, cli_actor
from migrator.app.planning import pin_vm
from migrator.app.workspace import Workspace
from migrator.diagnostics import Diagnostic
from migrator.errors import InputFileError, UsageError
from migrator.store.models import PlanEdit
from migrator.store.snapshots import now
from waves.edits import (
    FREE_KIND,
    KINDS,
    AntiAffinity,
    DiskType,
    Edit,
    Network,
    Provenance,
    Volume,
    WavePin,
    honoured_by,
    parse_edit,
    parse_recorded,
)


@dataclass(frozen=True)
class AddRequest:
    data: Any  # the edit's JSON form (docs/edits.md)
    who: str  # the reviewer's name (or a model id for source model)
    source: str = "reviewer"
    pr: int | None = None
    conversation: str | None = None
    prompt_version: str | None = None


@dataclass(frozen=True)
class StoredEdit:
    id: int
    edit: Edit
    provenance: Provenance


def add_edit(ws: Workspace, request: AddRequest, actor: Actor | None = None) -> dict[str, Any]:
    """Store an edit: applied when it fits the schema and the latest plan, refused otherwise.
    `actor`: who adds it (None: the CLI's user, named by the request's `who` for a reviewer's edit)."""
    actor = actor or cli_actor(request.who if request.source == "reviewer" else None)
    actor.require("edit")
    row = _add(ws, request, actor)
    detail = {"status": row["status"], "kind": row["kind"], "source": row["source"], "who": row["who"]}
    audit(ws, actor, "edit.add", f"edit:{row['id']}", detail)
    return row


def _add(ws: Workspace, request: AddRequest, actor: Actor) -> dict[str, Any]:
    data = request.data
    if not isinstance(data, dict) or data.get("kind") not in KINDS:
        raise UsageError(f"an edit is a JSON object whose kind is one of {', '.join(KINDS)}")
    provenance = Provenance(
        source=request.source,  # type: ignore[arg-type]
        who=request.who,
        prompt_version=request.prompt_version,
        at=now(),
        pr=request.pr,
        conversation=request.conversation,
    )
    try:
        edit = parse_edit(data)
    except ValidationError as exc:
        return _store(ws, data, provenance, _schema_diagnostics(exc))
    if isinstance(edit, WavePin):  # pins stay where the planner reads them, as `waves pin` writes them
        pin_vm(ws, edit.vm, edit.wave, actor)
        return with_change(ws.edits.list("applied")[-1])
    return _store(ws, edit.model_dump(mode="json"), provenance, _plan_diagnostics(ws, edit))


def _schema_diagnostics(exc: ValidationError) -> list[Diagnostic]:
    return [
        Diagnostic(
            "edit",
            "EDIT-INVALID",
            "error",
            "",
            None,
            f"{'.'.join(map(str, e['loc'][1:])) or 'edit'}: {e['msg']}",
        )
        for e in exc.errors()
    ]


def plan_problems(ws: Workspace, edit: Edit) -> list[Diagnostic]:
    """What the latest plan says against an edit (nothing stored): `migrator mcp`'s preview."""
    return _plan_diagnostics(ws, edit)


def _plan_diagnostics(ws: Workspace, edit: Edit) -> list[Diagnostic]:
    """What the latest plan says against the edit: an unknown VM, disk or wave."""
    document = ws.plans.get(None)
    wave_of = {vm: wave["number"] for wave in document["waves"] for vm in wave["vms"]}
    problems = []
    if edit.vm_name is not None and edit.vm_name not in wave_of:
        problems.append(f"VM {edit.vm_name!r} is not in plan {document['plan']['id']}")
    elif isinstance(edit, Volume | DiskType):
        record = ws.store.vm(int(document["plan"]["snapshot_id"]), edit.vm)
        labels = [str(d.get("label")) for d in record.get("disks") or []]
        if edit.disk not in labels:
            problems.append(
                f"VM {edit.vm!r} has no disk labelled {edit.disk!r} (its disks: {', '.join(labels)})"
            )
    elif isinstance(edit, Network):
        record = ws.store.vm(int(document["plan"]["snapshot_id"]), edit.vm)
        nics = [str(n.get("label")) for n in record.get("nics") or [] if n.get("network")]
        if edit.nic not in nics:
            known = ", ".join(nics) or "none"
            problems.append(f"VM {edit.vm!r} has no NIC labelled {edit.nic!r} on a network (NICs: {known})")
    waves = {wave["number"] for wave in document["waves"]}
    if edit.vm_name is None and edit.wave_number is not None and edit.wave_number not in waves:
        problems.append(f"wave {edit.wave_number} is not in plan {document['plan']['id']}")
    elif isinstance(edit, AntiAffinity):
        elsewhere = [repr(vm) for vm in edit.vms if wave_of.get(vm) != edit.wave]
        if elsewhere:
            problems.append(
                f"VM(s) {', '.join(elsewhere)} not in wave {edit.wave} of plan {document['plan']['id']}"
            )
    return [
        Diagnostic("edit", "EDIT-NOT-IN-PLAN", "error", "", None, p, edit.vm_name or "") for p in problems
    ]


def _store(
    ws: Workspace, data: dict[str, Any], provenance: Provenance, problems: list[Diagnostic]
) -> dict[str, Any]:
    vm, wave = data.get("vm"), data.get("wave")
    record = PlanEdit(
        created_at=provenance.at,
        kind=str(data["kind"]),
        vm=vm if isinstance(vm, str) else None,
        wave=wave if isinstance(wave, int) else None,
        edit=data,
        source=provenance.source,
        who=provenance.who,
        prompt_version=provenance.prompt_version,
        pr=provenance.pr,
        conversation=provenance.conversation,
        status="refused" if problems else "applied",
        diagnostics=[d.as_dict() for d in problems],
        changed_at=provenance.at if problems else None,
    )
    return with_change(ws.edits.add(record))


def with_change(row: dict[str, Any]) -> dict[str, Any]:
    """A stored edit with its one-line rendering (`change`)."""
    try:
        change = parse_recorded(row["edit"]).describe()
    except ValidationError:  # a refused edit that never fitted the schema: show what was asked
        change = f"{row['kind']}: {json.dumps(row['edit'], sort_keys=True)}"[:300]
    return {**row, "change": change}


def list_edits(ws: Workspace, status: str | None = None) -> list[dict[str, Any]]:
    if status is not None and status not in ("applied", "refused", "reverted"):
        raise UsageError(f"{{status}} {status!r}: use applied, refused or reverted", field="status")
    return [with_change(row) for row in ws.edits.list(status)]


def show_edit(ws: Workspace, edit_id: int) -> dict[str, Any]:
    return with_change(ws.edits.get(edit_id))


def revert_edit(ws: Workspace, edit_id: int, actor: Actor | None = None) -> dict[str, Any]:
    """Revert an applied edit (a pin is unpinned: the next plan no longer honours it)."""
    if actor is not None:
        actor.require("edit")
    row = ws.edits.get(edit_id)
    if row["status"] != "applied":
        raise UsageError(f"edit {edit_id} is {row['status']}: only an applied edit can be reverted")
    if row["kind"] == "wave-pin" and row["vm"]:
        ws.plans.unpin(row["vm"])
    ws.edits.set_status(edit_id, "reverted")
    audit(ws, actor, "edit.revert", f"edit:{edit_id}", {"kind": row["kind"], "vm": row["vm"]})
    return show_edit(ws, edit_id)


def active_edits(ws: Workspace) -> list[StoredEdit]:
    """The applied edits, oldest first (later edits win where two change the same thing)."""
    found = []
    for row in ws.edits.list("applied"):
        if row["kind"] == FREE_KIND:  # recorded and shown, never applied (free_edits)
            continue
        provenance = Provenance(
            source=row["source"],
            who=row["who"],
            prompt_version=row["prompt_version"],
            at=row["created_at"],
            pr=row["pr"],
            conversation=row["conversation"],
        )
        found.append(StoredEdit(int(row["id"]), parse_edit(row["edit"]), provenance))
    return found


def for_target(edits: list[StoredEdit], target: str) -> list[StoredEdit]:
    """The edits a target honours (a pin is the planner's, an instance type only AWS's)."""
    return [e for e in edits if honoured_by(target, e.edit.kind, getattr(e.edit, "cloud", None))]


def for_wave(edits: list[StoredEdit], number: int, vms: set[str]) -> list[StoredEdit]:
    return [
        e for e in edits if e.edit.vm_name in vms or (e.edit.vm_name is None and e.edit.wave_number == number)
    ]


def refuse(ws: Workspace, edits: list[StoredEdit], diagnostics: list[Diagnostic]) -> None:
    for e in edits:
        ws.edits.set_status(e.id, "refused", [d.as_dict() for d in diagnostics])


def edit_from_text(text: bytes | str, origin: str) -> Any:
    """The JSON value of an edit file (or stdin): one object, up to 64 KiB."""
    if len(text) > 65536:
        raise InputFileError(f"{origin}: an edit is at most 64 KiB of JSON")
    try:
        return json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InputFileError(f"{origin}: not JSON ({str(exc).splitlines()[0][:120]})") from None


def free_edits(ws: Workspace, target: str, wave: int) -> list[tuple[int, str, str]]:
    """The applied free edits of one wave of one target, as PLAN.md lists them (never applied)."""
    rows = []
    for row in ws.edits.list("applied"):
        data = row["edit"]
        if row["kind"] == FREE_KIND and data.get("target") == target and data.get("wave") == wave:
            provenance = Provenance(
                source=row["source"],
                who=row["who"],
                at=row["created_at"],
                pr=row["pr"],
                conversation=row["conversation"],
            )
            rows.append((int(row["id"]), parse_recorded(data).describe(), provenance.describe()))
    return rows
