"""`migrator waves`: plan migration waves, show and explain them, pin decisions, compare plans."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import typer
from rich.console import Console
from rich.text import Text

from migrator.app.interpret import vm_facts
from migrator.app.planning import WavePlanResult, compare_plans, pin_vm, plan_waves, sizing_target, unpin_vm
from migrator.cli.context import state
from migrator.cli.options import PLAN_OPTION, SNAPSHOT_OPTION
from migrator.cli.output import Format, dump_json, render
from migrator.errors import NotFound, UsageError
from waves.parameters import PlanParameters

app = typer.Typer(
    help="Plan migration waves, explain them, pin decisions, compare plans.", no_args_is_help=True
)
_out = Console(highlight=False, soft_wrap=True)
_err = Console(stderr=True, highlight=False, soft_wrap=True)

WAVE_COLUMNS = [
    ("number", "Wave"),
    ("name", "Name"),
    ("vm_count", "VMs"),
    ("vcpu", "vCPU"),
    ("memory_gb", "RAM GB"),
    ("storage_gb", "Disk GB"),
    ("replication_hours", "Repl. h"),
    ("cross_wave_edges", "X-wave edges"),
    ("risk", "Risk"),
    ("aws_monthly_usd", "AWS $/month"),
    ("azure_monthly_usd", "Azure $/month"),
    ("gcp_monthly_usd", "GCP $/month"),
    ("cheapest_cloud", "Cheapest"),
]
CLOUD_COST_KEYS = ("aws_monthly_usd", "azure_monthly_usd", "gcp_monthly_usd", "cheapest_cloud")


def _wave_row(wave: dict[str, Any]) -> dict[str, Any]:
    return {
        "number": wave["number"],
        "name": wave["name"],
        "vm_count": len(wave["vms"]),
        **{k: wave["metrics"][k] for k in ("vcpu", "memory_gb", "storage_gb", "replication_hours")},
        "cross_wave_edges": wave["metrics"]["cross_wave_edges"],
        "risk": wave["risk"]["level"],
        # .get: a plan stored before per-cloud costs has only AWS's
        **{k: wave["metrics"].get(k) for k in CLOUD_COST_KEYS},
        "sized_vcpu": wave["metrics"]["sized_vcpu"],
        "sized_memory_gb": wave["metrics"]["sized_memory_gb"],
        "vms": wave["vms"],
    }


KUBEVIRT_COLUMNS = [c for c in WAVE_COLUMNS if c[0] not in CLOUD_COST_KEYS] + [
    ("sized_vcpu", "Sized cores"),
    ("sized_memory_gb", "Sized GiB"),
]


def _print_plan(doc: dict[str, Any], fmt: Format) -> None:
    rows = [_wave_row(w) for w in doc["waves"]]
    if fmt is Format.json:
        dump_json(doc)
        return
    kubevirt = doc["plan"]["parameters"].get("target") == "kubevirt"
    columns = KUBEVIRT_COLUMNS if kubevirt else WAVE_COLUMNS
    render(rows, columns, fmt, title=f"Plan {doc['plan']['id']}: {len(rows)} waves")
    if fmt is Format.table:
        for wave in doc["waves"]:
            _out.print(Text(f"wave {wave['number']}: " + ", ".join(wave["vms"])))
        cross = doc["cross_wave"]
        fill = doc.get("fill")
        if fill and fill.get("ratio") is not None:
            _out.print(
                f"fill: {fill['waves']} waves, mean {fill['mean_vms']} VMs per wave of at most "
                f"{fill['max_vms']} ({fill['ratio']:.0%})"
            )
        _out.print(
            f"cross-wave traffic: {cross['edges']} edge(s), {cross['bytes'] / 1e9:.3g} GB; "
            f"AWS estimate ${doc['cost']['aws_monthly_usd']:,.0f}/month sized "
            f"(${doc['cost']['aws_as_is_monthly_usd']:,.0f} as-is)" + _other_clouds(doc["cost"])
        )


def _other_clouds(cost: dict[str, Any]) -> str:
    if cost.get("azure_monthly_usd") is None:  # a plan stored before per-cloud costs
        return ""
    return f"; Azure ${cost['azure_monthly_usd']:,.0f}, Google Cloud ${cost['gcp_monthly_usd']:,.0f} sized"


SIZING_TARGET_OPTION = typer.Option(
    "aws", "--target", help="aws, azure, gcp or kubevirt (sizing); terraform-aws means aws."
)


@app.command("plan")
def plan(
    ctx: typer.Context,
    max_vms: int = typer.Option(50, "--max-vms", help="VMs per wave."),
    max_disks: int = typer.Option(500, "--max-disks", help="Disks per wave."),
    max_storage_gb: float = typer.Option(None, "--max-storage-gb", help="Provisioned GB per wave."),
    bandwidth_mbps: float = typer.Option(
        None, "--bandwidth-mbps", help="Replication link (with --window-hours)."
    ),
    window_hours: float = typer.Option(None, "--window-hours", help="Replication window per wave."),
    max_per_host: int = typer.Option(10, "--max-per-host", help="VMs per source ESXi host per wave."),
    target: str = SIZING_TARGET_OPTION,
    couple_gb_per_day: float = typer.Option(1.0, "--couple-gb-per-day", help="Traffic that ties two VMs."),
    shared_min_clients: int = typer.Option(
        25, "--shared-min-clients", help="Clients that make a shared service."
    ),
    pilot_vms: int = typer.Option(5, "--pilot-vms", help="Size of the pilot wave (0: none)."),
    mix_environments: bool = typer.Option(
        False, "--mix-environments", help="Let prod and dev/test share waves."
    ),
    app_key: list[str] = typer.Option(
        None, "--app-key", help="Custom attribute / tag category naming the app."
    ),
    env_key: list[str] = typer.Option(
        None, "--env-key", help="Custom attribute / tag category naming the env."
    ),
    shared: list[str] = typer.Option(
        None, "--shared", help="A VM to treat as a shared service (repeatable)."
    ),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    snapshot: int = SNAPSHOT_OPTION,
    queue: bool = typer.Option(False, "--queue", help="Queue the planning for a worker (docs/scale.md)."),
) -> None:
    """Plan waves from the latest snapshot, all flow evidence and the pins; store and print the plan."""
    params = _parameters(ctx.params)  # every option above, by name
    if queue:
        from migrator.app.jobs import queue_wave_plan
        from migrator.cli.discover_cmd import print_enqueued

        print_enqueued(queue_wave_plan(state(ctx), params, snapshot))
        return
    result = plan_waves(state(ctx), params, snapshot)
    _print_plan(result.document, fmt)
    _print_plan_notes(result)
    if (error := result.incomplete()) is not None:
        raise error


def _parameters(given: dict[str, Any]) -> PlanParameters:
    defaults = PlanParameters()
    return PlanParameters(
        max_vms=given["max_vms"],
        max_disks=given["max_disks"],
        max_storage_gb=given["max_storage_gb"],
        bandwidth_mbps=given["bandwidth_mbps"],
        window_hours=given["window_hours"],
        max_per_host=given["max_per_host"],
        target=sizing_target(given["target"]),
        couple_gb_per_day=given["couple_gb_per_day"],
        shared_min_clients=given["shared_min_clients"],
        pilot_vms=given["pilot_vms"],
        mix_environments=given["mix_environments"],
        app_keys=tuple(given["app_key"]) if given["app_key"] else defaults.app_keys,
        env_keys=tuple(given["env_key"]) if given["env_key"] else defaults.env_keys,
        shared_services=tuple(given["shared"] or ()),
    )


def _print_plan_notes(result: WavePlanResult) -> None:
    """On stderr: what changed since the previous plan, the planner's notes, and what needs a human."""
    doc, change = result.document, result.change
    if change is not None:
        _err.print(
            f"compared with plan {change.previous_plan_id}: {change.moved} VM(s) moved, "
            f"{change.added} added, {change.removed} removed "
            f"(migrator waves diff {change.previous_plan_id} {result.plan_id})",
            markup=False,
        )
    for note in result.notes:
        _err.print(f"note: {note}", markup=False)
    for violation in doc["violations"]:  # the planner's own check; none expected
        _err.print(f"violation: {violation['rule']}: {violation['message']}", markup=False)
    for reason in result.unplaced_reasons():
        _err.print(f"unplaced: {reason}", markup=False)


@app.command("show")
def show(
    ctx: typer.Context,
    wave: int = typer.Argument(None, help="One wave's number [default: all waves]."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
    plan_id: int = PLAN_OPTION,
) -> None:
    """A stored plan (the JSON form is the contract in docs/waves-json.md)."""
    doc = state(ctx).plans.get(plan_id)
    if wave is None:
        _print_plan(doc, fmt)
        return
    match = [w for w in doc["waves"] if w["number"] == wave]
    if not match:
        raise NotFound(f"plan {doc['plan']['id']} has no wave {wave} (it has {len(doc['waves'])})")
    w = match[0]
    if fmt is Format.json:
        dump_json(w)
        return
    rows = [{"vm": vm, **_vm_row(doc["vms"][vm])} for vm in w["vms"]]
    render(
        rows,
        [("vm", "VM"), ("app", "App"), ("env", "Env"), ("placement", "Why here")],
        fmt,
        title=f"Wave {w['number']}: {w['name']} (risk {w['risk']['level']})",
    )
    if fmt is Format.table:
        for line in w["rationale"]:
            _out.print(Text(f"- {line}"))
        for reason in w["risk"]["reasons"]:
            _out.print(Text(f"  risk: {reason}"))


def _vm_row(info: dict[str, Any]) -> dict[str, Any]:
    return {"app": info.get("app"), "env": info.get("env"), "placement": info.get("placement")}


@app.command("explain")
def explain(
    ctx: typer.Context,
    vm: str = typer.Argument(..., help="VM name."),
    fmt: Format = typer.Option(Format.table, "--format", help="table or json."),
    plan_id: int = PLAN_OPTION,
) -> None:
    """Why this VM is in its wave: the rules and edges that put it there."""
    doc = state(ctx).plans.get(plan_id)
    info = doc["vms"].get(vm)
    if info is None:
        unplaced = [u for u in doc["unplaced"] if u["vm"] == vm]
        if unplaced:
            raise NotFound(f"{vm} is not in any wave of plan {doc['plan']['id']}: {unplaced[0]['reason']}")
        raise NotFound(f"no VM named {vm!r} in plan {doc['plan']['id']}")
    if fmt is Format.csv:
        raise UsageError("waves explain supports --format table or json")
    try:
        facts = vm_facts(state(ctx), vm, doc["plan"]["snapshot_id"]).as_dict()
    except NotFound:  # the plan's snapshot is gone: the placement is still worth explaining
        facts = {"facts": [], "findings": []}
    if fmt is Format.json:
        dump_json({"vm": vm, **info, "facts": facts["facts"], "fact_findings": facts["findings"]})
        return
    for line in [*_explanation(vm, info), *_fact_lines(facts)]:
        _out.print(Text(line))


def _fact_lines(facts: dict[str, Any]) -> list[str]:
    """Interpreted facts with where each came from; spans JSON-quoted (they are untrusted text)."""
    lines = ["  facts:"] if facts["facts"] else []
    for f in facts["facts"]:
        by = f"{f['source']}: {f['model']}, prompt {f['prompt_version']}" if f["model"] else f["source"]
        lines.append(
            f"    {f['kind']} = {json.dumps(f['value'], ensure_ascii=True)} ({by}; confidence "
            f"{f['confidence']:g}; {_plain(f['field'])}: {json.dumps(f['span'][:120], ensure_ascii=True)})"
        )
    seen = Counter(f"finding {f['id']} in {_plain(f['field'])}: {f['meaning']}" for f in facts["findings"])
    lines += [f"  {text}" + (f" ({n} times)" if n > 1 else "") for text, n in seen.items()]
    return lines


def _plain(text: str) -> str:
    """Field names carry attribute keys (untrusted): quoted when they hold anything but printable text."""
    return text if text.isprintable() else json.dumps(text, ensure_ascii=True)


def _explanation(vm: str, info: dict[str, Any]) -> list[str]:
    lines = [f"{vm}: wave {info['wave']} ({info['phase']})", f"  placement: {info['placement']}"]
    if info["pinned"]:
        lines.append("  pinned by an architect")
    if info["shared_service"]:
        lines.append(f"  shared service: {info['shared_service']}")
    if len(info["group"]) > 1:
        lines.append(f"  moves with: {', '.join(m for m in info['group'] if m != vm)}")
    for fact, source in (info.get("sources") or {}).items():
        value = info.get(fact)
        lines.append(f"  {fact}: {value} (from {source})" if value else f"  {fact} from {source}")
    for link in info["tied_by"]:
        lines.append(f"    {link['a']} + {link['b']}: {link['rule']}: {link['reason']}")
    for title, key in (("depends on", "depends_on"), ("depended on by", "dependents")):
        for edge in info[key]:
            where = f"wave {edge['wave']}" if edge["wave"] else "not in a wave"
            ports = ", ".join(edge["ports"]) or "-"
            lines.append(
                f"  {title} {edge['vm']} ({where}; {ports}; {edge['bytes'] / 1e9:.3g} GB; "
                f"{'+'.join(edge['evidence'])}; confidence {edge['confidence']})"
            )
    return lines


@app.command("pin")
def pin(
    ctx: typer.Context,
    vm: str = typer.Argument(..., help="VM name."),
    wave: int = typer.Option(..., "--wave", min=1, help="Wave number to keep it in."),
) -> None:
    """Record an architect's decision: this VM (and its move group) moves in wave N in every re-plan."""
    name = pin_vm(state(ctx), vm, wave)
    _out.print(Text(f"pinned {name} to wave {wave}; run `migrator waves plan` to re-plan"))


@app.command("unpin")
def unpin(ctx: typer.Context, vm: str = typer.Argument(..., help="VM name.")) -> None:
    """Remove a pin."""
    unpin_vm(state(ctx), vm)
    _out.print(Text(f"unpinned {vm}"))


@app.command("pins")
def pins(
    ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv.")
) -> None:
    """The architects' pins every plan keeps."""
    rows = [{"vm": vm, "wave": wave} for vm, wave in state(ctx).plans.pins().items()]
    render(rows, [("vm", "VM"), ("wave", "Wave")], fmt, title="Pins")


@app.command("list")
def list_plans(
    ctx: typer.Context, fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv.")
) -> None:
    """The stored plans."""
    rows = state(ctx).plans.summaries()
    columns = [
        ("id", "Plan"),
        ("created_at", "Created"),
        ("snapshot_id", "Snapshot"),
        ("waves", "Waves"),
        ("vms", "VMs"),
        ("unplaced", "Unplaced"),
        ("cross_wave_bytes", "Cross-wave bytes"),
    ]
    render(rows, columns, fmt, title="Wave plans")


@app.command("diff")
def diff(
    ctx: typer.Context,
    plan_a: int = typer.Argument(None, help="Older plan id [default: the one before PLAN_B]."),
    plan_b: int = typer.Argument(None, help="Newer plan id [default: the latest]."),
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """What moved between two plans and why."""
    comparison = compare_plans(state(ctx), plan_a, plan_b)
    result = comparison.diff
    if fmt is Format.json:
        dump_json(result)
        return
    render(
        result["moved"],
        [("vm", "VM"), ("from", "From"), ("to", "To"), ("why", "Why")],
        fmt,
        title=f"Plan {comparison.plan_a} -> {comparison.plan_b}: {len(result['moved'])} VM(s) moved",
    )
    if fmt is Format.table:
        _print_diff_details(result)


def _print_diff_details(result: dict[str, Any]) -> None:
    for key, change in result["parameters"].items():
        _out.print(Text(f"parameter {key}: {change['from']} -> {change['to']}"))
    for vm, wave in result["pins"]["added"].items():
        _out.print(Text(f"pin {vm} -> wave {wave}"))
    for vm in result["pins"]["removed"]:
        _out.print(Text(f"unpinned {vm}"))
    for key in ("added", "removed", "newly_unplaced"):
        if result[key]:
            _out.print(Text(f"{key.replace('_', ' ')}: {', '.join(result[key])}"))
    _out.print(Text(f"waves: {result['waves']['from']} -> {result['waves']['to']}"))
