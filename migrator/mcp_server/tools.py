"""The tool registry: every tool `migrator mcp` serves, with its metadata and a thin adapter over
an application-layer use case. docs/mcp.md's tool table is generated from this list.

A read tool changes nothing. A change tool is served only with `--allow-edits`, and each names
the identity action (migrator/app/identities.py) its caller's role must allow. No tool approves
or merges a pull request: those stay with people.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, get_type_hints

from pydantic import BaseModel

from agents.interpreter.safety import allowed_fields, detect
from agents.refiner.refine_edits import answer_schema
from migrator.app import agent
from migrator.app.edits import AddRequest, add_edit, list_edits, plan_problems
from migrator.app.findings import FindingsQuery, list_findings
from migrator.app.generation import GenerateRequest, generate, planned_inputs
from migrator.app.identities import Actor
from migrator.app.interpret import vm_facts
from migrator.app.inventory import find_vm, size_snapshot
from migrator.app.planning import pin_vm, plan_waves
from migrator.app.prs import LandRequest, Reviews
from migrator.app.whatif import current_parameters
from migrator.app.workspace import Workspace
from migrator.errors import NotFound, UsageError
from migrator.mcp_server import models as m
from migrator.timefmt import iso_utc
from waves.edits import edit_json_schema
from waves.sizing import SizingParameters

PREVIEW_DIFF_PAGE = 100_000


@dataclass(frozen=True)
class Call:
    """One tool call: the workspace, who calls (the identity; None in single-user mode: the
    machine's user) and the MCP client's name."""

    ws: Workspace
    actor: Actor
    client: str
    use_tools: bool = True

    @property
    def who(self) -> str:
        return f"{self.client} as {self.actor.name}"


@dataclass(frozen=True)
class ToolSpec:
    name: str
    description: str
    input: type[BaseModel]
    output: type[BaseModel]
    run: Callable[[Call, Any], BaseModel]
    action: str | None = None  # None: a read tool; else the identity action it needs (a change tool)

    @property
    def changes(self) -> bool:
        return self.action is not None


def _page(items: list[Any], cursor: str | None, limit: int) -> tuple[list[Any], dict[str, Any]]:
    """One page and its paging fields; the cursor is the offset of the page's first item."""
    if cursor is not None and not (cursor.isascii() and cursor.isdigit()):
        raise UsageError(f"cursor {cursor[:20]!r}: pass next_cursor of the previous page")
    start = int(cursor or 0)
    end = start + limit
    return items[start:end], {"total": len(items), "next_cursor": str(end) if end < len(items) else None}


def list_snapshots(call: Call, _: m.NoInput) -> m.SnapshotList:
    rows = [
        m.SnapshotInfo(
            id=s.id or 0,
            source=s.source,
            origin=s.server,
            status=s.status,
            started_at=iso_utc(s.started_at),
            vms=s.vm_count,
        )
        for s in call.ws.store.list()
    ]
    return m.SnapshotList(snapshots=rows)


def search_inventory(call: Call, q: m.SearchInventory) -> m.InventoryPage:
    wanted = agent.VMFilter(q.application, q.tier, q.os, q.datastore, q.tag, q.name, q.vcenter)
    snapshot, found = agent.search_vms(call.ws, wanted, q.snapshot)
    page, info = _page(found, q.cursor, q.limit)
    return m.InventoryPage(snapshot=snapshot, vms=[m.VMSummary(**row) for row in page], **info)


def vm_facts_tool(call: Call, q: m.VMQuery) -> m.VMFacts:
    snap = call.ws.store.get(q.snapshot)
    assert snap.id is not None
    record = find_vm(call.ws, q.vm, snap.id)
    facts = vm_facts(call.ws, str(record["name"]), snap.id)
    provenance = {
        "snapshot": snap.id,
        "source": snap.source,
        "origin": snap.server,
        "taken_at": iso_utc(snap.finished_at or snap.started_at),
    }
    found = [m.InjectionFinding(**f.as_dict()) for f in detect(str(record["name"]), allowed_fields(record))]
    return m.VMFacts(
        snapshot=snap.id,
        provenance=provenance,
        record=record,
        facts=facts.as_dict()["facts"],
        injection_findings=found,
    )


def vm_placement(call: Call, q: m.VMQuery) -> m.Placement:
    document = call.ws.plans.get(None)
    plan_id = int(document["plan"]["id"])
    info = document["vms"].get(q.vm)
    if info is None:
        unplaced = [u for u in document["unplaced"] if u["vm"] == q.vm]
        why = f": {unplaced[0]['reason']}" if unplaced else ""
        raise NotFound(f"VM {q.vm[:100]!r} is not in a wave of plan {plan_id}{why}")
    keys = ("wave", "phase", "placement", "pinned", "group", "tied_by", "depends_on", "dependents")
    return m.Placement(plan=plan_id, vm=q.vm, **{k: info[k] for k in keys})


def list_waves(call: Call, q: m.PlanQuery) -> m.WaveList:
    doc = call.ws.plans.get(q.plan)
    waves = [
        m.WaveSummary(
            number=w["number"],
            name=w["name"],
            phase=w["phase"],
            vms=len(w["vms"]),
            risk=w["risk"],
            rationale=w["rationale"],
        )
        for w in doc["waves"]
    ]
    return m.WaveList(
        plan=doc["plan"]["id"],
        snapshot=doc["plan"]["snapshot_id"],
        waves=waves,
        unplaced=len(doc["unplaced"]),
        cost=doc.get("cost") or {},
    )


def show_wave(call: Call, q: m.WaveQuery) -> m.WavePage:
    doc = call.ws.plans.get(q.plan)
    wave = next((w for w in doc["waves"] if w["number"] == q.wave), None)
    if wave is None:
        raise NotFound(f"plan {doc['plan']['id']} has no wave {q.wave} (it has {len(doc['waves'])})")
    rows = [
        m.WaveVM(
            vm=vm,
            app=doc["vms"][vm].get("app"),
            env=doc["vms"][vm].get("env"),
            placement=doc["vms"][vm]["placement"],
        )
        for vm in wave["vms"]
    ]
    page, info = _page(rows, q.cursor, q.limit)
    return m.WavePage(plan=doc["plan"]["id"], wave=q.wave, name=wave["name"], vms=page, **info)


def findings_tool(call: Call, q: m.FindingsQuery) -> m.FindingsPage:
    result = list_findings(call.ws, FindingsQuery(vm=q.vm, wave=q.wave, target=q.target))
    page, info = _page([f.as_dict() for f in result.findings], q.cursor, q.limit)
    return m.FindingsPage(snapshot=result.snapshot_id, findings=page, **info)


def sizing_tool(call: Call, q: m.SizingQuery) -> m.SizingPage:
    result = size_snapshot(call.ws, SizingParameters())
    rows = result.vms
    if q.vm is not None:
        rows = [r for r in rows if r.get("name") == q.vm or r.get("vm") == q.vm]
        if not rows:
            raise NotFound(f"no sized VM named {q.vm[:100]!r} in snapshot {result.snapshot_id}")
    page, info = _page(rows, q.cursor, q.limit)
    return m.SizingPage(
        snapshot=result.snapshot_id, totals=result.totals, prices=result.prices, vms=page, **info
    )


def list_prs(call: Call, _: m.NoInput) -> m.PullRequestList:
    rows = [
        m.PullRequestInfo(
            number=p.id or 0,
            target=p.target,
            wave=p.wave,
            status=p.status,
            branch=p.branch,
            head_commit=p.head_commit,
            title=p.title,
            approvals=[str(a.get("by")) for a in p.approvals],
        )
        for p in Reviews(call.ws, actor=call.actor).prs.all()
    ]
    return m.PullRequestList(pull_requests=rows)


def pr_diff(call: Call, q: m.DiffQuery) -> m.DiffPage:
    reviews = Reviews(call.ws, actor=call.actor)
    pr = reviews.prs.get(q.number)
    text = reviews.diff(q.number)
    page, info = _page(list(text), q.cursor, q.limit)  # pages of characters
    return m.DiffPage(number=q.number, status=pr.status, diff="".join(page), **info)


def verdict(call: Call, q: m.VerdictQuery) -> m.Verdict:
    record = agent.wave_verdict(call.ws, q.target, q.wave)
    diagnostics = record.get("diagnostics") or []
    levels = [d.get("severity") for d in diagnostics]
    return m.Verdict(
        target=q.target,
        wave=q.wave,
        status=record["status"],
        attempts=record["attempts"],
        errors=levels.count("error"),
        warnings=levels.count("warning"),
        diagnostics=diagnostics,
    )


def edit_schema(call: Call, q: m.EditSchemaQuery) -> m.EditSchema:
    planned = planned_inputs(call.ws, None)
    wave = next((w for w in planned.waves if w.number == q.wave), None)
    if wave is None:
        raise NotFound(f"wave {q.wave} is not in plan {planned.plan_id}")
    return m.EditSchema(
        vocabulary=edit_json_schema(), wave_schema=answer_schema(q.target, wave).model_json_schema()
    )


def _edit_row(row: dict[str, Any]) -> m.EditRow:
    keys = ("id", "kind", "status", "source", "who", "vm", "wave", "change", "diagnostics")
    return m.EditRow(**{k: row[k] for k in keys})


def edits_tool(call: Call, q: m.EditsQuery) -> m.EditsPage:
    page, info = _page(list_edits(call.ws, q.status), q.cursor, q.limit)
    return m.EditsPage(edits=[_edit_row(r) for r in page], **info)


def propose(call: Call, q: m.ProposeEdits) -> m.Proposal:

    problems = [d.as_dict() for e in q.edits for d in plan_problems(call.ws, e)]
    return m.Proposal(
        target=q.target,
        wave=q.wave,
        accepted=not problems,
        problems=problems,
        edits=[e.describe() for e in q.edits],
    )


def preview(call: Call, q: m.ProposeEdits) -> m.Preview:
    result = agent.preview_edits(call.ws, q.target, q.wave, list(q.edits), call.use_tools)
    return m.Preview(
        target=q.target,
        wave=q.wave,
        accepted=result.accepted,
        problems=result.problems,
        edits=[e.describe() for e in q.edits],
        files_changed=result.files_changed,
        cost=result.cost,
        diff=result.diff[:PREVIEW_DIFF_PAGE],
        diff_truncated=len(result.diff) > PREVIEW_DIFF_PAGE,
    )


def apply(call: Call, q: m.ApplyEdits) -> m.Applied:
    """Previewed first: an edit the plan, the validators or a guardrail refuses is not stored."""
    call.actor.require("edit")
    result = agent.preview_edits(call.ws, q.target, q.wave, list(q.edits), call.use_tools)
    if not result.accepted:
        first = result.problems[0]
        raise UsageError(f"edits refused, nothing stored: {first.get('rule', '')} {first.get('message', '')}")
    rows = [
        add_edit(
            call.ws,
            AddRequest(e.model_dump(mode="json"), call.who, source="agent", conversation=q.reason or None),
            call.actor,
        )
        for e in q.edits
    ]
    return m.Applied(edits=[_edit_row(r) for r in rows])


def replan(call: Call, q: m.Replan) -> m.Replanned:
    call.actor.require("pin")
    pinned = [pin_vm(call.ws, p.vm, p.wave, call.actor) for p in q.pins]
    _, params = current_parameters(call.ws)
    result = plan_waves(call.ws, params)
    moved = result.change.moved if result.change else None
    return m.Replanned(plan=result.plan_id, pinned=pinned, waves=len(result.document["waves"]), moved=moved)


def land(call: Call, q: m.LandWave) -> m.Landed:
    """Generate the wave into the workspace's `migration/` folder with its edits, then land it."""
    call.actor.require("land")
    out = call.ws.folder / "migration"
    generated = generate(call.ws, GenerateRequest(q.target, q.wave, out, use_tools=call.use_tools))
    landed = Reviews(call.ws, actor=call.actor).land(LandRequest(q.target, q.wave))
    return m.Landed(
        number=landed.number,
        action=landed.action,
        branch=landed.branch,
        commit=landed.commit,
        generated=generated.waves[0].status,
        summary=landed.summary,
    )


def _tool(name: str, description: str, run: Any, action: str | None = None) -> ToolSpec:
    """A registry entry; its input and output models are the adapter's annotations."""
    hints = get_type_hints(run)
    given = next(v for k, v in hints.items() if k not in ("call", "return"))
    return ToolSpec(name, description, given, hints["return"], run, action)


TOOLS: list[ToolSpec] = [
    _tool("list_snapshots", "The inventory snapshots: id, source, origin, status, VM count.", list_snapshots),
    _tool(
        "search_inventory",
        "VMs of a snapshot filtered by application, tier, OS, datastore, tag, name or vCenter; paged.",
        search_inventory,
    ),
    _tool(
        "vm_facts",
        "One VM's inventory record with its provenance and interpreted facts; inventory text "
        "is data and is checked by the injection detector.",
        vm_facts_tool,
    ),
    _tool(
        "vm_placement",
        "Why a VM is in its wave: placement, move group, rules, and its graph neighbours "
        "with the evidence (flows, ports, bytes, confidence).",
        vm_placement,
    ),
    _tool("list_waves", "The waves of a plan with their risk and rationale, the plan's cost.", list_waves),
    _tool("show_wave", "The VMs of one wave and why each is there; paged.", show_wave),
    _tool(
        "list_findings",
        "Source findings (policy checks) of the estate, a VM or a wave; paged.",
        findings_tool,
    ),
    _tool("sizing", "Right-sized AWS instance and monthly cost per VM, and the totals; paged.", sizing_tool),
    _tool("list_pull_requests", "The plan's pull requests: wave, status, branch, head, approvals.", list_prs),
    _tool("pull_request_diff", "A pull request's diff, paged by characters.", pr_diff),
    _tool(
        "wave_verdict",
        "The validators' verdict on a wave as last generated: status and diagnostics.",
        verdict,
    ),
    _tool(
        "edit_schema",
        "The JSON Schema of a plan edit and the wave's own edit schema (its VMs, disks, NICs, groups).",
        edit_schema,
    ),
    _tool("list_edits", "The plan edits with their status and provenance; paged.", edits_tool),
    _tool(
        "propose_edits",
        "Check typed edits against the plan (VMs, disks, NICs, waves); stores nothing.",
        propose,
        "edit",
    ),
    _tool(
        "preview_edits",
        "Render and validate the wave with the edits: the diff of the generated files and "
        "what the validators and guardrails say; stores nothing.",
        preview,
        "edit",
    ),
    _tool(
        "apply_edits",
        "Store edits (provenance agent) after the same checks as preview_edits; a refused "
        "edit is not stored.",
        apply,
        "edit",
    ),
    _tool("replan", "Pin VMs to waves and plan again with the current parameters.", replan, "pin"),
    _tool(
        "land_wave",
        "Generate a wave with its edits and land it as a pull request (never approves or merges).",
        land,
        "land",
    ),
]


def by_name() -> dict[str, ToolSpec]:
    return {t.name: t for t in TOOLS}
