"""Code generation (`migrator plan`): per wave, findings -> blocked VMs -> generate/validate/fix loop
-> REPORT.md -> staging folder moved into place -> record in the store."""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from agents.transpiler_agent import DEFAULT_ATTEMPTS, NEEDS_HUMAN, AgentResult, run_wave
from agents.validator import ValidatorOptions
from agents.wave_report import render_report
from migrator.app.model_report import ModelReport, PlanModelRecords, model_report, plan_model_records
from migrator.app.workspace import Workspace
from migrator.atomic import recover, replace_dir, staging_path
from migrator.diagnostics import count
from migrator.errors import Incomplete, NotFound, UsageError
from migrator.review.planmd import PlanFacts, render_plan
from migrator.store.models import GeneratedWave
from migrator.store.snapshots import now
from policies.engine import Finding, blocking, source_findings
from transpilers.base import Transpiler
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


@dataclass(frozen=True)
class GenerateRequest:
    target: str  # a name from transpilers.registry.TARGETS
    wave: str | int = "all"  # a wave number or "all"
    out: Path = Path("migration")  # one subfolder per target, then wave-NN
    plan_id: int | None = None  # None: the latest plan
    options: Mapping[str, object] = field(default_factory=dict)  # declared target options by name
    max_attempts: int = DEFAULT_ATTEMPTS
    use_tools: bool = True  # terraform/tofu and kubeconform when on PATH


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
    transpiler = get(request.target)
    planned = planned_inputs(ws, request.plan_id)
    snapshot = ws.store.get(planned.snapshot_id)
    options = target_options(source_defaults(snapshot.server, request.options))
    root = request.out / request.target
    root.mkdir(parents=True, exist_ok=True)
    recover(root)  # put back what an interrupted earlier run left half-swapped
    models = plan_model_records(ws, planned.plan_id, planned.snapshot_id, request.target)
    outcomes = [
        generate_wave(ws, transpiler, planned, wave_input, options, root, request, models)
        for wave_input in select_waves(planned.waves, request.wave)
    ]
    return GenerateResult(planned.plan_id, request.target, root, outcomes)


def generate_wave(
    ws: Workspace,
    transpiler: Transpiler,
    planned: PlannedInputs,
    wave_input: WaveInput,
    options: TargetOptions,
    root: Path,
    request: GenerateRequest,
    models: PlanModelRecords,
) -> WaveOutcome:
    """One wave: block VMs with critical findings, generate into place, record it in the store."""
    records = [vm.record for vm in wave_input.vms]
    findings = source_findings(records, planned.clusters, request.target)
    wave_input = replace(wave_input, blocked=blocking(findings))
    folder = wave_folder(root, wave_input.number)
    report = model_report(ws, models, records, wave_input.number)
    result = _generate(
        transpiler,
        wave_input,
        options,
        folder,
        request.max_attempts,
        request.use_tools,
        findings,
        planned.document,
        report,
    )
    diagnostics = [d.as_dict() for d in result.diagnostics]
    ws.generated.save(
        GeneratedWave(
            created_at=now(),
            plan_id=planned.plan_id,
            target=request.target,
            wave=wave_input.number,
            status=result.status,
            attempts=result.attempts,
            out_dir=str(folder),
            files=result.digests(),
            blocked=wave_input.blocked,
            diagnostics=diagnostics,
            timings=result.report.timings,
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


def _plan_md(
    transpiler: Transpiler,
    document: dict[str, Any],
    wave: WaveInput,
    options: TargetOptions,
    folder: Path,
    result: AgentResult,
    findings: list[Finding],
    report: ModelReport,
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
    )
    return render_plan(facts)


def _generate(
    transpiler: Transpiler,
    wave: WaveInput,
    options: TargetOptions,
    final: Path,
    max_attempts: int,
    use_tools: bool,
    findings: list[Finding],
    document: dict[str, Any],
    report: ModelReport,
) -> AgentResult:
    """Generate into a staging folder beside `final`, then move it into place."""
    staging = staging_path(final)
    try:
        result = run_wave(
            transpiler,
            wave,
            options,
            staging,
            max_attempts=max_attempts,
            validator=ValidatorOptions(use_tools=use_tools),
        )
        (staging / "REPORT.md").write_text(
            render_report(transpiler.meta, wave, result, findings), encoding="utf-8"
        )
        (staging / "PLAN.md").write_text(
            _plan_md(transpiler, document, wave, options, final, result, findings, report), encoding="utf-8"
        )
        replace_dir(staging, final)  # the old or the new wave is complete at every instant
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return result
