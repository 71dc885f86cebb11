"""What the dashboard shows, built from the application layer's use cases (never a copy of them).

Every function returns plain JSON-able data: the API returns it as is, the pages render it with
Jinja2's autoescape. Inventory text is never trusted; escaping happens where it lands (HTML).
"""

from __future__ import annotations

import json
import math
from collections import Counter, OrderedDict, defaultdict
from collections.abc import Callable
from threading import Lock, Thread
from typing import Any
from urllib.parse import quote

from migrator.app import interpret
from migrator.app.endpoints import (
    endpoint_address,
    external_endpoint,
    external_endpoints,
    is_external,
    wave_endpoints,
)
from migrator.app.findings import (
    FindingsQuery,
    cached_summary,
    findings_of,
    findings_summary,
    list_findings,
)
from migrator.app.inventory import find_vm, snapshot_vms
from migrator.app.prs import Reviews
from migrator.app.workspace import Workspace
from migrator.errors import MigratorError, NotFound
from transpilers.registry import TARGETS

SEVERITIES = ("critical", "warning", "info")
AGGREGATE_ABOVE = 2000  # nodes: above this the graph is grouped by application unless asked otherwise


class _Memo:
    """A few parsed documents per process, for the long-running dashboard. Only for things that
    never change once stored (a plan; the totals of a complete snapshot), keyed so that a new
    database at the same URL cannot hit an old entry. The views only read what it returns."""

    def __init__(self, kept: int = 4) -> None:
        self.kept = kept
        self.items: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[Any, ...], load: Callable[[], Any]) -> Any:
        with self.lock:
            if key in self.items:
                self.items.move_to_end(key)
                return self.items[key]
        value = load()
        with self.lock:
            self.items[key] = value
            while len(self.items) > self.kept:
                self.items.popitem(last=False)
        return value


_plans = _Memo()
_totals = _Memo()
_graphs = _Memo(kept=8)
_endpoints = _Memo()


def node_url(node: str, doc: dict[str, Any]) -> str:
    """The page of a node of the plan's graph: a VM's or an external endpoint's. The whole name is
    one path segment ("/", "?", "#", "%" and an IPv6 address's ":" quoted)."""
    if is_external(node, doc):
        return "/endpoints/" + quote(endpoint_address(node), safe="")
    return "/vms/" + quote(node, safe="")


def plan(ws: Workspace, plan_id: int | None = None) -> dict[str, Any]:
    """A stored plan's document, parsed once per process (parsing a 10,000-VM plan took about 2 s
    of every page); keyed by the plan's id and creation time."""
    stamp = ws.plans.stamp(plan_id)
    if stamp is None:
        return ws.plans.get(plan_id)  # raises the store's "no such plan" error
    return _plans.get((*ws.cache_key, *stamp), lambda: ws.plans.get(stamp[0]))


def _gb(mb: float | None) -> float:
    return round((mb or 0) / 1024, 1)


def estate(ws: Workspace, snapshot: int | None = None) -> dict[str, Any]:
    """Totals of one snapshot: VMs, vCPU, memory, storage, power states, OS families."""
    snap = ws.store.get(snapshot)
    if snap.status != "complete":
        return _estate(ws, snapshot)
    key = (*ws.cache_key, snap.id, str(snap.started_at))
    return _totals.get(key, lambda: _estate(ws, snap.id))


def _estate(ws: Workspace, snapshot: int | None) -> dict[str, Any]:
    selected = snapshot_vms(ws, snapshot)
    power: Counter[str] = Counter()
    families: Counter[str] = Counter()
    vcpu = 0
    memory_mb = 0.0
    storage = 0.0
    for vm in selected.vms:
        power[vm.get("power_state") or "unknown"] += 1
        families[os_family(vm)] += 1
        vcpu += vm.get("num_cpu") or 0
        memory_mb += vm.get("memory_mb") or 0
        storage += sum((d.get("capacity_gb") or 0) for d in vm.get("disks") or [])
    return {
        "snapshot_id": selected.snapshot_id,
        "vms": len(selected.vms),
        "vcpu": vcpu,
        "memory_gb": _gb(memory_mb),
        "storage_gb": round(storage, 1),
        "power_states": dict(power.most_common()),
        "os_families": dict(families.most_common()),
    }


def os_family(vm: dict[str, Any]) -> str:
    text = " ".join(str(vm.get(k) or "") for k in ("guest_id", "guest_os", "tools_guest_os")).lower()
    for needle, family in (("win", "Windows"), ("rhel", "Linux"), ("linux", "Linux"), ("centos", "Linux")):
        if needle in text:
            return family
    for needle in ("ubuntu", "debian", "sles", "suse", "oracle"):
        if needle in text:
            return "Linux"
    return "Other" if text.strip() else "Unknown"


def findings_by_severity(
    ws: Workspace, target: str | None = None, snapshot: int | None = None
) -> dict[str, Any]:
    """Counts by severity from the findings cache. Without an entry (the first look at a new
    snapshot: about a minute at 10,000 VMs) the page does not wait: the counts are filled in
    the background, once, and the page says so until they are there."""
    summary = cached_summary(ws, target, snapshot)
    if summary is not None:
        return {"target": target, "counts": summary.counts, "pending": False, "error": None}
    return {"target": target, "counts": None, "pending": True, "error": _fill(ws, target, snapshot)}


_filling: dict[tuple[Any, ...], str | None] = {}  # key -> None while running, else its error
_filling_lock = Lock()


def _fill(ws: Workspace, target: str | None, snapshot: int | None) -> str | None:
    """Start filling the cache for (snapshot, target) unless it is running; the last run's error
    (reported once, then retried) or None."""
    key = (*ws.cache_key, target, snapshot)
    with _filling_lock:
        if key in _filling:
            error = _filling[key]
            if error is None:
                return None  # running
            del _filling[key]
            return error
        _filling[key] = None

    def run() -> None:
        error = None
        try:
            findings_summary(ws, target, snapshot)
        except Exception as exc:  # a failed fill must not kill the server: the page shows it
            error = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        with _filling_lock:
            if error is None:
                _filling.pop(key, None)
            else:
                _filling[key] = error

    Thread(target=run, name="findings-cache", daemon=True).start()
    return None


def wave_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for w in doc["waves"]:
        m = w["metrics"]
        rows.append(
            {
                "number": w["number"],
                "name": w["name"],
                "vm_count": len(w["vms"]),
                "vcpu": m.get("vcpu"),
                "memory_gb": m.get("memory_gb"),
                "storage_gb": m.get("storage_gb"),
                "replication_hours": m.get("replication_hours"),
                "cross_wave_edges": m.get("cross_wave_edges"),
                "aws_monthly_usd": m.get("aws_monthly_usd"),
                "cheapest_cloud": m.get("cheapest_cloud"),  # None on a plan stored before it
                "risk": w["risk"]["level"],
            }
        )
    return rows


def pr_status(ws: Workspace, plan_id: int) -> dict[str, dict[str, str]]:
    """Wave number -> target -> the newest PR's state for this plan ("" when none)."""
    status: dict[str, dict[str, str]] = defaultdict(dict)
    for pr in Reviews(ws).prs.all():
        if pr.plan_id == plan_id:
            status[str(pr.wave)][pr.target] = f"#{pr.id} {pr.status}"
    return dict(status)


def overview(ws: Workspace) -> dict[str, Any]:
    doc = plan(ws)
    totals = estate(ws, doc["plan"]["snapshot_id"])
    return {
        "plan": {"id": doc["plan"]["id"], "snapshot_id": doc["plan"]["snapshot_id"]},
        "estate": totals,
        "waves": wave_rows(doc),
        "cross_wave": doc.get("cross_wave", {}),
        "cost": doc.get("cost", {}),
        "unplaced": len(doc.get("unplaced", [])),
        "findings": findings_by_severity(ws, snapshot=doc["plan"]["snapshot_id"]),
        "pr_status": pr_status(ws, doc["plan"]["id"]),
    }


def wave(ws: Workspace, number: int, plan_id: int | None = None) -> dict[str, Any]:
    doc = plan(ws, plan_id)
    match = [w for w in doc["waves"] if w["number"] == number]
    if not match:
        raise NotFound(f"plan {doc['plan']['id']} has no wave {number} (it has {len(doc['waves'])})")
    w = match[0]
    findings = findings_of(ws, w["vms"], snapshot=doc["plan"]["snapshot_id"])
    per_vm: dict[str, Counter[str]] = defaultdict(Counter)
    for f in findings.findings:
        per_vm[f.vm][f.severity] += 1
    vms = []
    for name in w["vms"]:
        info = doc["vms"].get(name, {})
        vms.append(
            {
                "name": name,
                "app": info.get("app"),
                "env": info.get("env"),
                "placement": info.get("placement"),
                "pinned": info.get("pinned", False),
                "findings": {s: per_vm[name].get(s, 0) for s in SEVERITIES},
            }
        )
    prs = [
        {"number": pr.id, "target": pr.target, "status": pr.status, "title": pr.title}
        for pr in Reviews(ws).prs.all()
        if pr.plan_id == doc["plan"]["id"] and pr.wave == number
    ]
    return {
        "plan_id": doc["plan"]["id"],
        "number": w["number"],
        "name": w["name"],
        "metrics": w["metrics"],
        "risk": w["risk"],
        "rationale": w.get("rationale", []),
        "vms": vms,
        "external_endpoints": wave_endpoints(doc, number),
        "prs": prs,
    }


def endpoint(ws: Workspace, address: str, plan_id: int | None = None) -> dict[str, Any]:
    """One external endpoint of the plan (migrator.app.endpoints). The plan's endpoints are
    resolved from every stored flow once per plan and set of flow sets, so an import or a
    removed flow set shows at once."""
    doc = plan(ws, plan_id)
    flow_sets = tuple(s.id for s in ws.flows.sets())
    key = (*ws.cache_key, doc["plan"]["id"], doc["plan"].get("created_at"), flow_sets)
    known = _endpoints.get(key, lambda: external_endpoints(ws, doc))
    return external_endpoint(known, address).as_dict()


def vm(ws: Workspace, name: str, plan_id: int | None = None) -> dict[str, Any]:
    doc = plan(ws, plan_id)
    where = vm_snapshots(ws, name, doc["plan"]["snapshot_id"])
    facts = where["facts"]
    placement = doc["vms"].get(facts["name"])
    unplaced = [u for u in doc.get("unplaced", []) if u["vm"] == facts["name"]]
    findings: dict[str, list[dict[str, Any]]] = {}
    for target in TARGETS:
        query = FindingsQuery(vm=facts["name"], target=target, snapshot=where["snapshot_id"])
        result = list_findings(ws, query)
        findings[target] = [f.as_dict() for f in result.findings]
    perf = facts.get("perf") or {}
    return {
        "plan_id": doc["plan"]["id"],
        "name": facts["name"],
        "snapshot_id": where["snapshot_id"],
        "plan_snapshot_id": doc["plan"]["snapshot_id"],
        "latest_snapshot_id": where["latest_snapshot_id"],
        "pinnable": where["pinnable"],
        "facts": {k: v for k, v in facts.items() if k not in ("disks", "nics", "perf", "partitions")},
        "disks": facts.get("disks") or [],
        "nics": facts.get("nics") or [],
        "utilisation": perf,
        "placement": placement,
        "unplaced": unplaced[0]["reason"] if unplaced else None,
        "peer_urls": {
            e["vm"]: node_url(e["vm"], doc)
            for key in ("depends_on", "dependents")
            for e in (placement or {}).get(key) or []
        },
        "business": business_facts(placement),
        "interpreted": interpreted_facts(ws, facts["name"], where["snapshot_id"]),
        "findings": findings,
    }


def vm_snapshots(ws: Workspace, name: str, planned: int) -> dict[str, Any]:
    """A VM's record from the plan's snapshot, else from the latest one (a VM discovered since the
    plan: the drift page links it); and whether the latest snapshot has it, which pinning and the
    what-if preview need (a VM gone since the plan cannot be pinned)."""
    latest = ws.store.get(None).id
    try:
        facts, snapshot = find_vm(ws, name, planned), planned
    except NotFound:
        if latest is None or latest == planned:
            raise
        facts, snapshot = find_vm(ws, name, latest), latest
    pinnable = snapshot == latest
    if not pinnable and latest is not None:
        try:
            pinnable = find_vm(ws, facts["name"], latest)["name"] == facts["name"]
        except NotFound:
            pinnable = False
    return {"facts": facts, "snapshot_id": snapshot, "latest_snapshot_id": latest, "pinnable": pinnable}


BUSINESS_FACTS = (
    ("app", "application"),
    ("env", "environment"),
    ("owner", "owner"),
    ("critical", "criticality"),
)


def business_facts(placement: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The planner's business facts of a VM with where each came from (`waves explain`'s sources):
    the inventory (custom attribute, tag) or the CMDB; "not stated" when neither says."""
    info = placement or {}
    sources = info.get("sources") or {}
    rows = []
    for key, label in BUSINESS_FACTS:
        source = sources.get("criticality" if key == "critical" else key)
        value = info.get(key)
        if key == "critical" and value is None and source:
            value = "stated, not critical"  # the plan keeps only why a VM counts as critical
        kind = "CMDB" if str(source or "").startswith("CMDB") else "inventory" if source else None
        rows.append({"fact": label, "value": value, "kind": kind, "source": source})
    return rows


def interpreted_facts(ws: Workspace, name: str, snapshot: int) -> dict[str, Any] | None:
    """One VM's interpreted facts with their provenance (inventory, CMDB, naming, annotation,
    model), from the application layer as `waves explain` shows them; None when it cannot
    answer for this VM (the rest of the page still renders)."""
    try:
        return dict(interpret.vm_facts(ws, name, snapshot=snapshot).as_dict())
    except MigratorError:
        return None


def graph_json(
    ws: Workspace,
    plan_id: int | None = None,
    wave: int | None = None,
    app: str | None = None,
    env: str | None = None,
    aggregate: str = "auto",
) -> bytes:
    """`graph` as JSON, built once per plan and filter (a plan never changes once stored): the full
    10,000-VM graph took about 0.5 s to build and as long again to encode."""
    stamp = ws.plans.stamp(plan_id)
    if stamp is None:
        ws.plans.get(plan_id)  # raises the store's "no such plan" error
        raise NotFound("no wave plan yet: run `migrator waves plan`")
    key = (*ws.cache_key, *stamp, wave, app, env, aggregate)

    def build() -> bytes:
        data = graph(ws, stamp[0], wave, app, env, aggregate)
        return json.dumps(data, separators=(",", ":"), allow_nan=False).encode()

    result: bytes = _graphs.get(key, build)
    return result


def graph(
    ws: Workspace,
    plan_id: int | None = None,
    wave: int | None = None,
    app: str | None = None,
    env: str | None = None,
    aggregate: str = "auto",
) -> dict[str, Any]:
    """Nodes and edges of the plan's dependency graph with a deterministic layout (columns by wave).

    `wave` keeps that wave and its direct neighbours (cross-wave edges flagged); `aggregate`
    is auto (by application above AGGREGATE_ABOVE nodes), app or none.
    """
    doc = plan(ws, plan_id)
    vms: dict[str, dict[str, Any]] = doc["vms"]
    keep = {
        n
        for n, i in vms.items()
        if (app is None or i.get("app") == app) and (env is None or i.get("env") == env)
    }
    anchor = keep  # the VMs whose external endpoints are shown
    if wave is not None:
        anchor = {n for n in keep if vms[n]["wave"] == wave}
        near = {e["vm"] for n in anchor for key in ("depends_on", "dependents") for e in vms[n][key]}
        keep = anchor | (near & set(vms))
    edges: dict[tuple[str, str], float] = {}
    for n in keep:
        for e in vms[n]["depends_on"]:
            if e["vm"] in keep:
                edges[(n, e["vm"])] = edges.get((n, e["vm"]), 0) + float(e["bytes"] or 0)
    grouped = aggregate == "app" or (aggregate == "auto" and len(keep) > AGGREGATE_ABOVE)
    if grouped:
        return _by_app(doc, keep, edges)
    external = _external_edges(doc, anchor)
    traffic: dict[str, float] = defaultdict(float)
    for (a, b), size in [*edges.items(), *external.items()]:
        traffic[a] += size
        traffic[b] += size
    nodes = [_vm_node(n, vms[n], traffic[n]) for n in sorted(keep)]
    outside = sorted({n for pair in external for n in pair if n not in vms})
    nodes += [_external_node(n, traffic[n], doc) for n in outside]
    _layout(nodes)
    return {
        "plan_id": doc["plan"]["id"],
        "aggregated": False,
        "waves": len(doc["waves"]),
        "nodes": nodes,
        "edges": [
            {
                "source": a,
                "target": b,
                "bytes": size,
                "cross_wave": a in vms and b in vms and vms[a]["wave"] != vms[b]["wave"],
            }
            for (a, b), size in sorted({**edges, **external}.items())
        ],
    }


def _external_edges(doc: dict[str, Any], anchor: set[str]) -> dict[tuple[str, str], float]:
    """Edges between the anchor VMs and external endpoints (the plan keeps them on the VM side)."""
    edges: dict[tuple[str, str], float] = {}
    for n in anchor:
        info = doc["vms"][n]
        for e in info["depends_on"]:
            if is_external(e["vm"], doc):
                edges[(n, e["vm"])] = float(e["bytes"] or 0)
        for e in info["dependents"]:
            if is_external(e["vm"], doc):
                edges[(e["vm"], n)] = float(e["bytes"] or 0)
    return edges


def _vm_node(name: str, info: dict[str, Any], traffic: float) -> dict[str, Any]:
    return {
        "id": name,
        "kind": "vm",
        "label": name,
        "wave": info["wave"],
        "app": info.get("app"),
        "env": info.get("env"),
        "traffic": traffic,
        "url": "/vms/" + quote(name, safe=""),  # "?" or "#" in a VM name must not cut its link
    }


def _external_node(node: str, traffic: float, doc: dict[str, Any]) -> dict[str, Any]:
    """An external endpoint: in no wave (drawn left of wave 1), its own page."""
    return {
        "id": node,
        "kind": "external",
        "label": endpoint_address(node),
        "wave": None,
        "app": None,
        "env": None,
        "traffic": traffic,
        "url": node_url(node, doc),
    }


def _by_app(doc: dict[str, Any], keep: set[str], edges: dict[tuple[str, str], float]) -> dict[str, Any]:
    vms = doc["vms"]
    group = {n: f"app:{vms[n].get('app') or 'unlabelled'}|w{vms[n]['wave']}" for n in keep}
    members: Counter[str] = Counter(group.values())
    merged: dict[tuple[str, str], float] = defaultdict(float)
    traffic: dict[str, float] = defaultdict(float)
    for (a, b), size in edges.items():
        ga, gb = group[a], group[b]
        traffic[ga] += size
        traffic[gb] += size
        if ga != gb:
            merged[(ga, gb)] += size
    first = {g: n for n, g in sorted(group.items(), reverse=True)}
    nodes = [
        {
            "id": g,
            "label": f"{vms[first[g]].get('app') or 'unlabelled'} ({count})",
            "wave": vms[first[g]]["wave"],
            "app": vms[first[g]].get("app"),
            "env": None,
            "kind": "group",
            "traffic": traffic[g],
            "members": count,
            "url": None,
        }
        for g, count in sorted(members.items())
    ]
    _layout(nodes)
    wave_of = {n["id"]: n["wave"] for n in nodes}
    return {
        "plan_id": doc["plan"]["id"],
        "aggregated": True,
        "waves": len(doc["waves"]),
        "nodes": nodes,
        "edges": [
            {"source": a, "target": b, "bytes": s, "cross_wave": wave_of[a] != wave_of[b]}
            for (a, b), s in sorted(merged.items())
        ],
    }


def _layout(nodes: list[dict[str, Any]]) -> None:
    """Columns by wave, a sunflower spiral within each column: stable, instant, readable."""
    counts = Counter(node["wave"] for node in nodes)
    spacing = 2.2 * math.sqrt(max(counts.values(), default=1)) + 4
    seen: Counter[Any] = Counter()
    for node in nodes:
        k = seen[node["wave"]]
        seen[node["wave"]] += 1
        radius = math.sqrt(k + 0.5)
        angle = k * 2.399963  # the golden angle
        node["x"] = round((node["wave"] or 0) * spacing + radius * math.cos(angle), 3)
        node["y"] = round(radius * math.sin(angle), 3)
