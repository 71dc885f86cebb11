"""Code generation (`migrator plan`): per wave, findings -> blocked VMs -> generate/validate/fix loop
-> REPORT.md -> staging folder moved into place -> record in the store."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from agents.generator.transpiler_agent import DEFAULT_ATTEMPTS, NEEDS_HUMAN, AgentResult, run_wave
from agents.generator.wave_report import render_report
from agents.validator import ValidatorOptions
from migrator.app.edits import StoredEdit, active_edits, for_target, for_wave, free_edits, refuse
from migrator.app.learning import apply_learned
from migrator.app.model_report import ModelReport, PlanModelRecords, model_report, plan_model_records
from migrator.app.schedule import stored_cutovers
from migrator.app.workspace import Workspace
from migrator.atomic import recover, replace_dir, staging_path
from migrator.diagnostics import Diagnostic, count
from migrator.errors import Incomplete, NotFound, UsageError
from migrator.review.planmd import PlanFacts, render_plan
from migrator.store.models import GeneratedWave
from migrator.store.snapshots import now
from policies.engine import Finding, blocking, source_findings
from transpilers.base import Transpiler
from transpilers.edits import apply_edits
from transpilers.inputs import wave_inputs
from transpilers.model import TargetOptions, WaveInput
from transpilers.registry import get, target_options


@dataclass(frozen=True)
class PlannedInputs:
    """The stored plan, one WaveInput per wave, and the snapshot's clusters."""

    document: dict[str, Any]  # the waves-json contract
    waves: list[WaveInput]
    clusters: list[dict[str, Any]]

    @property
    def plan_id(self) -> int:
        return int(self.document["plan"]["id"])

    @property
    def snapshot_id(self) -> int:
        return int(self.document["plan"]["snapshot_id"])


def planned_inputs(ws: Workspace, plan_id: int | None) -> PlannedInputs:
    """Everything a transpiler reads about a stored plan (None: the latest plan)."""
    document = ws.plans.get(plan_id)
    snapshot_id = document["plan"]["snapshot_id"]
    store = ws.store
    vms = list(store.records(snapshot_id, "vms"))
    clusters = list(store.records(snapshot_id, "clusters"))
    networks = list(store.records(snapshot_id, "networks"))
    inputs = wave_inputs(document, vms, clusters, networks, ws.flows.flows())
    return PlannedInputs(document, inputs, clusters)


def select_waves(inputs: list[WaveInput], wave: str | int) -> list[WaveInput]:
    """One wave by number, or "all"."""
    if wave == "all":
        return inputs
    if isinstance(wave, str) and not wave.isdigit():
        raise UsageError(f"{{wave}} {wave!r}: give a wave number or 'all'", field="wave")
    chosen = [w for w in inputs if w.number == int(wave)]
    if not chosen:
        raise NotFound(f"wave {wave} is not in the plan (it has {len(inputs)} wave(s))")
    return chosen


def source_defaults(server: str | None, given: Mapping[str, object]) -> dict[str, object]:
    """Option values the snapshot implies: the vCenter a discovery read is where VDDK reads from."""
    values = dict(given)
    if not values.get("vddk_url") and server and server.startswith("https://"):
        values["vddk_url"] = server
    return values


def stored_options(ws: Workspace, planned: PlannedInputs, target: str, wave: int) -> dict[str, object]:
    """The options the wave was last generated with (`migrator plan --region ...`), with what the
    snapshot implies; none recorded (never generated, or before revision 0010): the defaults."""
    record = next((r for r in ws.generated.latest(planned.plan_id, target) if r["wave"] == wave), None)
    given = dict(record["options"]) if record is not None else {}
    return source_defaults(ws.store.get(planned.snapshot_id).server, given)


@dataclass(frozen=True)
class GenerateRequest:
    target: str  # a name from transpilers.registry.TARGETS
    wave: str | int = "all"  # a wave number or "all"
    out: Path = Path("migration")  # one subfolder per target, then wave-NN
    plan_id: int | None = None  # None: the latest plan
    options: Mapping[str, object] = field(default_factory=dict)  # declared target options by name
    max_attempts: int = DEFAULT_ATTEMPTS
    use_tools: bool = True  # terraform/tofu and kubeconform when on PATH
    # wave number -> when the schedule cuts it over (UTC); a wave's cutover-window edit wins.
    # The Forklift Migration carries it (docs/handoff.md); `migrator schedule` fills it.
    cutovers: Mapping[int, datetime] = field(default_factory=dict)


@dataclass(frozen=True)
class WaveOutcome:
    wave: int
    vms: int
    blocked: int
    files: int
    errors: int
    warnings: int
    attempts: int
    status: str  # clean | needs-human
    out_dir: Path
    diagnostics: list[dict[str, Any]]

    @property
    def needs_human(self) -> bool:
        return self.status == NEEDS_HUMAN

    def as_dict(self) -> dict[str, Any]:
        """The row of `plan --format json` (docs/plan.md)."""
        return {
            "wave": self.wave,
            "vms": self.vms,
            "blocked": self.blocked,
            "files": self.files,
            "errors": self.errors,
            "warnings": self.warnings,
            "attempts": self.attempts,
            "status": self.status,
            "out_dir": str(self.out_dir),
            "diagnostics": self.diagnostics,
        }


@dataclass(frozen=True)
class GenerateResult:
    plan_id: int
    target: str
    root: Path  # out / target
    waves: list[WaveOutcome]

    @property
    def stuck(self) -> list[int]:
        return [w.wave for w in self.waves if w.needs_human]

    def as_dict(self) -> dict[str, Any]:
        return {"plan_id": self.plan_id, "target": self.target, "waves": [w.as_dict() for w in self.waves]}

    def incomplete(self) -> Incomplete | None:
        """The error to end with when a wave needs a human (its code and report are written)."""
        if not self.stuck:
            return None
        waves = ", ".join(str(n) for n in self.stuck)
        return Incomplete(f"wave(s) {waves} need a human: see REPORT.md in each wave folder")


def wave_folder(root: Path, number: int) -> Path:
    return root / f"wave-{number:02d}"


def generate(ws: Workspace, request: GenerateRequest) -> GenerateResult:
    """Generate and validate infrastructure code for the selected waves of a stored plan."""
    # The target is resolved here, once: everything below reads the transpiler and its metadata
    # (its id, cloud, sizing key, language), so a new target is one module plus its registration.
    transpiler = get(request.target)
    target = transpiler.meta.id
    planned = planned_inputs(ws, request.plan_id)
    snapshot = ws.store.get(planned.snapshot_id)
    options = target_options(source_defaults(snapshot.server, request.options))
    root = request.out / target
    root.mkdir(parents=True, exist_ok=True)
    recover(root)  # put back what an interrupted earlier run left half-swapped
    models = plan_model_records(ws, planned.plan_id, planned.snapshot_id, target)
    chosen = select_waves(planned.waves, request.wave)
    apply_learned(ws, chosen, target)  # learned corrections become edits (docs/learning.md)
    edits = _plan_edits(ws, planned, target)
    cutovers = request.cutovers or stored_cutovers(ws, planned.plan_id)
    found = findings_by_wave(chosen, planned.clusters, target)
    outcomes = [
        generate_wave(
            ws,
            transpiler,
            planned,
            _scheduled(wave_input, cutovers),
            options,
            root,
            request,
            models,
            edits,
            found.get(wave_input.number),
        )
        for wave_input in chosen
    ]
    estate = transpiler.estate_files(options)  # the Forklift providers
    for name in transpiler.meta.estate_files:  # none left from an earlier run with other options
        if name not in estate:
            (root / name).unlink(missing_ok=True)
    for name, text in estate.items():
        (root / name).write_text(text, encoding="utf-8")
    return GenerateResult(planned.plan_id, target, root, outcomes)


def findings_by_wave(
    waves: list[WaveInput], clusters: list[dict[str, Any]], target: str
) -> dict[int, list[Finding]]:
    """Every wave's source findings from one evaluation of the pack over all their VMs (a
    finding depends on its own VM, the clusters and the target only: policies/engine.py), which
    spares a query of every policy per wave. {} when a VM name is in two waves: each wave is
    then evaluated on its own (a finding names its VM by name)."""
    names = [str(vm.record.get("name")) for w in waves for vm in w.vms]
    if len(waves) < 2 or len(set(names)) != len(names):
        return {}
    found = source_findings([vm.record for w in waves for vm in w.vms], clusters, target)
    wave_of = {str(vm.record.get("name")): w.number for w in waves for vm in w.vms}
    out: dict[int, list[Finding]] = {w.number: [] for w in waves}
    for f in found:  # sorted as source_findings sorts, so each wave's list is too
        if f.vm not in wave_of:
            return {}  # a finding this split cannot place: each wave on its own
        out[wave_of[f.vm]].append(f)
    return out


def _scheduled(wave: WaveInput, cutovers: Mapping[int, datetime]) -> WaveInput:
    """The wave with the schedule's cutover time, when there is one for it."""
    when = cutovers.get(wave.number)
    return wave if when is None else replace(wave, scheduled_cutover=when)


def generate_wave(
    ws: Workspace,
    transpiler: Transpiler,
    planned: PlannedInputs,
    wave_input: WaveInput,
    options: TargetOptions,
    root: Path,
    request: GenerateRequest,
    models: PlanModelRecords,
    edits: list[StoredEdit] | None = None,
    findings: list[Finding] | None = None,
) -> WaveOutcome:
    """One wave: block VMs with critical findings, apply the plan edits, generate into place, record
    it in the store. `findings`: the wave's source findings when already evaluated
    (`findings_by_wave`)."""
    records = [vm.record for vm in wave_input.vms]
    target = transpiler.meta.id
    if findings is None:
        findings = source_findings(records, planned.clusters, target)
    wave_input = replace(wave_input, blocked=blocking(findings))
    folder = wave_folder(root, wave_input.number)
    report = model_report(ws, models, records, wave_input.number)
    context = _WaveContext(
        transpiler,
        folder,
        request.max_attempts,
        request.use_tools,
        findings,
        planned.document,
        report,
        free_edits(ws, target, wave_input.number),
        ws.schedules.latest(planned.plan_id),
    )
    result = _generate_edited(ws, context, wave_input, options, edits or [])
    diagnostics = [d.as_dict() for d in result.diagnostics]
    ws.generated.save(
        GeneratedWave(
            created_at=now(),
            plan_id=planned.plan_id,
            target=target,
            wave=wave_input.number,
            status=result.status,
            attempts=result.attempts,
            out_dir=str(folder),
            files=result.digests(),
            blocked=wave_input.blocked,
            diagnostics=diagnostics,
            timings=result.report.timings,
            options={k: v for k, v in request.options.items() if v is not None},
        )
    )
    counts = count(result.diagnostics)  # the transpiler's own and the validators'
    return WaveOutcome(
        wave=wave_input.number,
        vms=len(wave_input.vms),
        blocked=len(wave_input.blocked),
        files=len(result.files),
        errors=counts["error"],
        warnings=counts["warning"],
        attempts=result.attempts,
        status=result.status,
        out_dir=folder,
        diagnostics=diagnostics,
    )


def _plan_edits(ws: Workspace, planned: PlannedInputs, target: str) -> list[StoredEdit]:
    """The applied edits this target honours; those naming a VM or wave the plan lacks are refused."""
    edits = for_target(active_edits(ws), target)
    wave_of = planned.document["waves"]
    vms = {vm for wave in wave_of for vm in wave["vms"]}
    numbers = {wave["number"] for wave in wave_of}
    kept = []
    for e in edits:
        vm, wave = e.edit.vm_name, e.edit.wave_number
        if (vm is not None and vm not in vms) or (vm is None and wave not in numbers):
            what = f"VM {vm!r}" if vm is not None else f"wave {wave}"
            refuse(ws, [e], [_refusal(f"{what} is not in plan {planned.plan_id}", vm or "")])
        else:
            kept.append(e)
    return kept


def _refusal(message: str, resource: str = "") -> Diagnostic:
    return Diagnostic("edit", "EDIT-NOT-IN-WAVE", "error", "", None, message, resource)


@dataclass(frozen=True)
class _WaveContext:
    """What generating one wave needs besides the wave and its options."""

    transpiler: Transpiler
    folder: Path
    max_attempts: int
    use_tools: bool
    findings: list[Finding]
    document: dict[str, Any]
    report: ModelReport
    free: list[tuple[int, str, str]] = field(default_factory=list)  # reviewers' free edits, for PLAN.md
    schedule: dict[str, Any] | None = None  # the plan's stored schedule, for PLAN.md


def _generate_edited(
    ws: Workspace, c: _WaveContext, wave: WaveInput, options: TargetOptions, edits: list[StoredEdit]
) -> AgentResult:
    """Generate the wave with its edits applied. Edits naming what the wave lacks are refused
    first; when the edited output fails validation and the wave without edits passes, the
    edits are refused with the diagnostics and the wave is generated without them."""
    mine = for_wave(edits, wave.number, {vm.name for vm in wave.vms})
    applied = apply_edits(wave, options, [e.edit for e in mine])
    for index, why in applied.refused.items():
        refuse(ws, [mine[index]], [_refusal(why, mine[index].edit.vm_name or "")])
    used = [mine[i] for i in applied.applied]
    result = _generate(c, applied.wave, applied.options, used)
    if not used or result.status != NEEDS_HUMAN:
        return result
    plain = _generate(c, wave, options, [])
    if plain.status == NEEDS_HUMAN:
        return result  # the wave fails without its edits too: they are not what broke it
    refuse(ws, used, [d for d in result.diagnostics if d.severity == "error"])
    return plain


def _plan_md(
    transpiler: Transpiler,
    document: dict[str, Any],
    wave: WaveInput,
    options: TargetOptions,
    folder: Path,
    result: AgentResult,
    findings: list[Finding],
    report: ModelReport,
    edits: list[StoredEdit],
    free: list[tuple[int, str, str]],
    schedule: dict[str, Any] | None = None,
) -> str:
    """PLAN.md beside REPORT.md: what a reviewer of the wave's pull request reads first."""
    facts = PlanFacts(
        transpiler.meta,
        document,
        wave,
        result.files,
        result.status,
        result.attempts,
        result.diagnostics,
        findings,
        options,
        f"{transpiler.meta.id}/{folder.name}",
        report.usage,
        report.findings,
        report.facts,
        [(e.id, e.edit.describe(), e.provenance.describe()) for e in edits] + free,
        schedule,
    )
    return render_plan(facts)


def _generate(
    c: _WaveContext, wave: WaveInput, options: TargetOptions, edits: list[StoredEdit]
) -> AgentResult:
    """Generate into a staging folder beside the wave's folder, then move it into place."""
    staging = staging_path(c.folder)
    try:
        result = run_wave(
            c.transpiler,
            wave,
            options,
            staging,
            max_attempts=c.max_attempts,
            validator=ValidatorOptions(use_tools=c.use_tools),
        )
        (staging / "REPORT.md").write_text(
            render_report(c.transpiler.meta, wave, result, c.findings, options), encoding="utf-8"
        )
        plan_md = _plan_md(
            c.transpiler,
            c.document,
            wave,
            options,
            c.folder,
            result,
            c.findings,
            c.report,
            edits,
            c.free,
            c.schedule,
        )
        (staging / "PLAN.md").write_text(plan_md, encoding="utf-8")
        replace_dir(staging, c.folder)  # the old or the new wave is complete at every instant
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return result
