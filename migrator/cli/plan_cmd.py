"""`migrator plan`: transpile the stored wave plan into infrastructure code and validate it."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path
from typing import Any

import typer
from rich.console import Console

from agents.transpiler_agent import DEFAULT_ATTEMPTS, NEEDS_HUMAN, AgentResult, run_wave
from agents.validator import ValidatorOptions
from agents.wave_report import render_report
from migrator.atomic import recover, replace_dir, staging_path
from migrator.cli.context import AppState, state
from migrator.cli.options import PLAN_OPTION
from migrator.diagnostics import count
from migrator.errors import Incomplete, NotFound, UsageError
from migrator.output import Format, dump_json, render
from migrator.store.generated import GeneratedStore
from migrator.store.models import GeneratedWave
from migrator.store.snapshots import now
from policies.engine import Finding, blocking, source_findings
from transpilers.base import Transpiler
from transpilers.inputs import wave_inputs
from transpilers.model import TargetOptions, WaveInput
from transpilers.registry import get

COLUMNS = [
    ("wave", "Wave"),
    ("vms", "VMs"),
    ("blocked", "Blocked"),
    ("files", "Files"),
    ("errors", "Errors"),
    ("warnings", "Warnings"),
    ("attempts", "Attempts"),
    ("status", "Status"),
    ("out_dir", "Folder"),
]


def planned_inputs(
    app: AppState, plan_id: int | None
) -> tuple[dict[str, Any], list[WaveInput], list[dict[str, Any]]]:
    """The stored plan, one WaveInput per wave, and the snapshot's clusters."""
    document = app.plans.get(plan_id)
    snapshot_id = document["plan"]["snapshot_id"]
    store = app.store
    vms = list(store.records(snapshot_id, "vms"))
    clusters = list(store.records(snapshot_id, "clusters"))
    networks = list(store.records(snapshot_id, "networks"))
    inputs = wave_inputs(document, vms, clusters, networks, app.flows.flows())
    return document, inputs, clusters


def _selected(inputs: list[WaveInput], wave: str) -> list[WaveInput]:
    if wave == "all":
        return inputs
    if not wave.isdigit():
        raise UsageError(f"--wave {wave!r}: give a wave number or 'all'")
    chosen = [w for w in inputs if w.number == int(wave)]
    if not chosen:
        raise NotFound(f"wave {wave} is not in the plan (it has {len(inputs)} wave(s))")
    return chosen


def _vddk_url(server: str | None, given: str | None) -> str | None:
    if given:
        return given
    if server and server.startswith("https://"):
        return server
    return None


def plan(
    ctx: typer.Context,
    target: str = typer.Option(..., "--target", help="terraform-aws or kubevirt."),
    wave: str = typer.Option("all", "--wave", help="A wave number, or all."),
    out: Path = typer.Option(
        Path("migration"), "--out", help="Folder for the generated code (one subfolder per target and wave)."
    ),
    plan_id: int = PLAN_OPTION,
    namespace: str = typer.Option(
        "vm-migration", "--namespace", help="kubevirt: namespace of the manifests."
    ),
    run_strategy: str = typer.Option(
        "Halted", "--run-strategy", help="kubevirt: runStrategy (Halted until cutover)."
    ),
    storage_class: str = typer.Option(
        None, "--storage-class", help="kubevirt: storage class of the DataVolumes."
    ),
    vddk_url: str = typer.Option(None, "--vddk-url", help="kubevirt: vCenter SDK URL the import reads from."),
    vddk_thumbprint: str = typer.Option(
        None, "--vddk-thumbprint", help="kubevirt: SHA-1 thumbprint of vCenter's certificate."
    ),
    vddk_secret: str = typer.Option(
        "vcenter-credentials",
        "--vddk-secret",
        help="kubevirt: name of the Secret with vCenter credentials (referenced, never written).",
    ),
    vddk_init_image: str = typer.Option(
        None, "--vddk-init-image", help="kubevirt: VDDK init image (default: CDI's cluster setting)."
    ),
    region: str = typer.Option(
        "us-east-1", "--region", help="terraform-aws: default region in variables.tf."
    ),
    max_attempts: int = typer.Option(
        DEFAULT_ATTEMPTS, "--max-attempts", min=1, max=10, help="Generate-validate-fix rounds per wave."
    ),
    use_tools: bool = typer.Option(
        True, "--tools/--no-tools", help="Use terraform/tofu and kubeconform when on PATH."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
) -> None:
    """Generate and validate infrastructure code for the waves of the stored plan (docs/plan.md)."""
    transpiler = get(target)
    app = state(ctx)
    document, inputs, clusters = planned_inputs(app, plan_id)
    snapshot = app.store.get(document["plan"]["snapshot_id"])
    options = TargetOptions(
        namespace=namespace,
        run_strategy=run_strategy,
        storage_class=storage_class,
        vddk_url=_vddk_url(snapshot.server, vddk_url),
        vddk_thumbprint=vddk_thumbprint,
        vddk_secret=vddk_secret,
        vddk_init_image=vddk_init_image,
        region=region,
    )
    root = out / target
    root.mkdir(parents=True, exist_ok=True)
    recover(root)  # put back what an interrupted earlier run left half-swapped
    generated = GeneratedStore(app.engine)
    rows: list[dict[str, Any]] = []
    for wave_input in _selected(inputs, wave):
        records = [vm.record for vm in wave_input.vms]
        findings = source_findings(records, clusters, target)
        wave_input = replace(wave_input, blocked=blocking(findings))
        folder = root / f"wave-{wave_input.number:02d}"
        result = _generate(transpiler, wave_input, options, folder, max_attempts, use_tools, findings)
        diagnostics = [d.as_dict() for d in result.diagnostics]
        generated.save(
            GeneratedWave(
                created_at=now(),
                plan_id=document["plan"]["id"],
                target=target,
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
        rows.append(
            {
                "wave": wave_input.number,
                "vms": len(wave_input.vms),
                "blocked": len(wave_input.blocked),
                "files": len(result.files),
                "errors": counts["error"],
                "warnings": counts["warning"],
                "attempts": result.attempts,
                "status": result.status,
                "out_dir": str(folder),
                "diagnostics": diagnostics,
            }
        )
    if fmt is Format.json:
        dump_json({"plan_id": document["plan"]["id"], "target": target, "waves": rows})
    else:
        render(rows, COLUMNS, Format.table, title=f"Plan {document['plan']['id']}: {target}")
        errors = sum(r["errors"] for r in rows)
        warnings = sum(r["warnings"] for r in rows)
        Console(highlight=False).print(
            f"validation summary: {len(rows)} wave(s), {errors} error(s), {warnings} warning(s); "
            f"{sum(r['status'] == NEEDS_HUMAN for r in rows)} need a human. Reports: {root}/wave-NN/REPORT.md"
        )
    stuck = [str(r["wave"]) for r in rows if r["status"] == NEEDS_HUMAN]
    if stuck:
        raise Incomplete(f"wave(s) {', '.join(stuck)} need a human: see REPORT.md in each wave folder")


def _generate(
    transpiler: Transpiler,
    wave: WaveInput,
    options: TargetOptions,
    final: Path,
    max_attempts: int,
    use_tools: bool,
    findings: list[Finding],
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
        replace_dir(staging, final)  # the old or the new wave is complete at every instant
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return result
