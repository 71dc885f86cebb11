"""REPORT.md of a generated wave: what was written, what was left out and why, and what the
validators said. Deterministic (no times), so it diffs cleanly between runs."""

from __future__ import annotations

from agents.generator.transpiler_agent import AgentResult
from policies.engine import Finding
from transpilers.base import TranspilerMeta
from transpilers.escape import md_text
from transpilers.model import TargetOptions, VMInput, WaveInput
from transpilers.terraform_azure import azure_choice
from transpilers.terraform_google import gcp_choice
from transpilers.terraform_openstack import flavor_of
from waves.flavors import load_flavors


def render_report(
    meta: TranspilerMeta,
    wave: WaveInput,
    result: AgentResult,
    findings: list[Finding],
    options: TargetOptions | None = None,
) -> str:
    counts = result.report.counts
    lines = [
        f"# Wave {wave.number}: {md_text(wave.name)} ({meta.id})",
        "",
        f"- Status: **{result.status}** after {result.attempts} attempt(s)",
        f"- Target: {meta.target}; transpiler {meta.id} v{meta.version}",
        f"- VMs planned: {len(wave.vms)}; written: {len(wave.vms) - len(wave.blocked)}; "
        f"blocked by critical findings: {len(wave.blocked)}",
        f"- Validation: {counts['error']} error(s), {counts['warning']} warning(s), {counts['info']} info; "
        f"checkers: {', '.join(result.report.checkers) or 'none'}",
    ]
    window = wave.cutover_window()
    if window:  # a plan edit's change window (docs/edits.md)
        lines.append(f"- Cutover window: {window}")
    lines += [f"- Note: {md_text(n)}" for n in result.report.notes]
    if wave.blocked:
        lines += ["", "## Blocked VMs (not written)", ""]
        for vm, reasons in sorted(wave.blocked.items()):
            lines.append(f"- {md_text(vm)}: " + "; ".join(md_text(r) for r in reasons))
    diagnostics = result.diagnostics
    if diagnostics:
        lines += [
            "",
            "## Diagnostics",
            "",
            "| severity | checker | rule | where | resource | message |",
            "|---|---|---|---|---|---|",
        ]
        for d in diagnostics:
            lines.append(
                f"| {d.severity} | {d.checker} | {d.rule} | {md_text(d.where())} | {md_text(d.resource)} "
                f"| {md_text(d.message)} |"
            )
    concerns = [f for f in findings if f.severity != "critical"]
    if concerns:
        lines += [
            "",
            "## Source concerns (not blocking)",
            "",
            "| VM | severity | policy | finding | on this target |",
            "|---|---|---|---|---|",
        ]
        for f in concerns:
            lines.append(
                f"| {md_text(f.vm)} | {f.severity} | {f.policy} | {md_text(f.message)} "
                f"| {md_text(f.meaning)} |"
            )
    lines += ["", "## VMs", ""]
    for planned in wave.vms:
        state = "blocked" if planned.name in wave.blocked else "written"
        size = planned.sizing
        lines.append(
            f"- {md_text(planned.name)} ({state}): {size['vcpu']} vCPU, {size['memory_mb']} MiB, "
            + _choice(meta, planned, options)
        )
    return "\n".join(lines) + "\n"


def _choice(meta: TranspilerMeta, planned: VMInput, options: TargetOptions | None) -> str:
    """The size the target's cloud gives the VM's need."""
    if meta.cloud == "azure":
        return f"Azure {azure_choice(planned)['vm_size'] or 'none fits'}"
    if meta.cloud == "gcp":
        return f"Google Cloud {gcp_choice(planned)['machine_type'] or 'none fits'}"
    if meta.cloud == "openstack":  # the flavor of the user's catalogue (--flavors)
        flavor = flavor_of(planned, load_flavors(options.flavors if options else None))
        return f"OpenStack flavor {flavor.name if flavor else 'none fits'}"
    return f"AWS {planned.sizing['aws']['instance_type'] or 'none fits'}"
