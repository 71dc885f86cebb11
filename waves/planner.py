"""Wave planning: move groups, then ordered placement, then refinement (docs/waves.md).

1. Move groups: union-find over every `together` rule; cycles of dependencies between groups
   are merged too, so the group graph is acyclic.
2. Groups too big for a wave, or bound by conflicting pins, are reported by name with numbers.
3. Louvain communities over inter-group traffic (shared services left out, they talk to
   everyone) give an affinity order: groups that talk are placed one after another.
4. Groups are placed in a lexicographic topological order of the dependency DAG, keyed by
   phase (pilot, dev/test, prod, critical), community and name, each into the compatible wave
   within its bounds that holds most of its traffic, or a new wave.
5. Local refinement moves single groups to the wave holding more of their traffic while every
   hard rule still holds.
6. Fuller waves: the smallest waves are emptied into other waves of their phase when every
   group keeps every hard rule there; then empty waves are dropped and the rest numbered from 1.
Deterministic: the same inputs give the same plan (sorted iteration, seeded Louvain).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import networkx as nx

from migrator.errors import UsageError
from waves.graph import DependencyGraph
from waves.groups import UnionFind, join
from waves.parameters import PlanParameters
from waves.rules import (
    TOGETHER_RULES,
    Link,
    PlanContext,
    Precedence,
    check_plan,
    links_of,
    memo,
    precedence_reason,
    precedences_of,
    shared_of,
)

PHASE_RANK = {"pilot": 0, "nonprod": 1, "nonprod-critical": 2, "prod": 3, "prod-critical": 4}
PHASE_LABEL = {
    "pilot": "Pilot",
    "nonprod": "Dev/test",
    "nonprod-critical": "Dev/test (critical)",
    "prod": "Prod",
    "prod-critical": "Prod (critical)",
}
NEARBY_WAVES = 4  # open waves of a phase a group may join besides those holding its traffic
REFINE_PASSES = 4


@dataclass
class Group:
    gid: int
    members: list[str]
    links: list[Link] = field(default_factory=list)
    vms: int = 0
    disks: int = 0
    gb: float = 0.0
    hosts: Counter[str] = field(default_factory=Counter)
    env_class: str = "prod"
    critical: list[str] = field(default_factory=list)
    shared: list[str] = field(default_factory=list)
    concerns: list[str] = field(default_factory=list)
    external: int = 0
    pin: int | None = None  # wave index (0-based)
    phase: str = "prod"
    unplaced: str | None = None
    placement: str = ""

    @property
    def label(self) -> str:
        return self.members[0] if self.vms == 1 else f"{self.members[0]} (+{self.vms - 1})"


@dataclass
class Wave:
    phase: str | None
    groups: list[int] = field(default_factory=list)
    vms: int = 0
    disks: int = 0
    gb: float = 0.0
    hosts: Counter[str] = field(default_factory=Counter)


@dataclass
class Placement:
    """The planner's result, before it becomes the `waves show` document."""

    ctx: PlanContext
    groups: list[Group]
    waves: list[Wave]
    wave_of_vm: dict[str, int]  # VM -> wave number (1-based)
    unplaced: list[dict[str, str]]
    group_of: dict[str, int]
    notes: list[str] = field(default_factory=list)

    @property
    def phase_of_wave(self) -> list[str]:
        return [w.phase or "prod" for w in self.waves]


class Planner:
    def __init__(self, graph: DependencyGraph, params: PlanParameters, pins: Mapping[str, int]) -> None:
        self.graph = graph
        self.params = params
        self.notes: list[str] = []
        known = {vm: wave for vm, wave in pins.items() if vm in graph.facts}
        for vm in sorted(set(pins) - set(known)):
            self.notes.append(f"pin for {vm!r} ignored: no such VM in this snapshot")
        self.ctx = PlanContext(graph, params, pins=known)
        self.ctx.shared = shared_of(self.ctx)
        self.unplaced: list[dict[str, str]] = []
        self.placeable = [n for n, f in sorted(graph.facts.items()) if not f.template]
        for name, f in sorted(graph.facts.items()):
            if f.template:
                self.unplaced.append({"vm": name, "reason": "template: not a workload, nothing to move"})

    # -- 1. move groups ------------------------------------------------------------------------
    def _move_groups(self) -> tuple[list[Group], dict[str, int], nx.DiGraph]:
        """The move groups (fresh each plan: placement changes them) from `_tied`, which pins do
        not change (kept for every what-if of a plan: waves.rules.memo)."""
        members_of, links, precedences = memo(self.ctx, "move-groups", self._tied)
        groups: list[Group] = []
        group_of: dict[str, int] = {}
        for gid, members in enumerate(members_of):
            groups.append(Group(gid, list(members)))
            for vm in members:
                group_of[vm] = gid
        for link in links:
            groups[group_of[link.a]].links.append(link)
        gdag = nx.DiGraph()
        gdag.add_nodes_from(range(len(groups)))
        for target, dependent, _reason in precedences:
            if group_of[target] != group_of[dependent]:
                gdag.add_edge(group_of[target], group_of[dependent])
        return groups, group_of, gdag

    def _tied(self) -> tuple[list[list[str]], list[Link], list[Precedence]]:
        """Union-find over every together rule, then dependency cycles between groups merged:
        the members of each group, the links that tie them, the precedences between VMs."""
        uf = UnionFind(self.placeable)
        links: list[Link] = []
        for rule in TOGETHER_RULES:
            join(uf, links_of(rule, self.ctx), links)
        precedences = [p for p in precedences_of(self.ctx) if p[0] in uf.parent and p[1] in uf.parent]
        while True:  # merge dependency cycles between groups until the group graph is a DAG
            dag = nx.DiGraph()
            dag.add_nodes_from({uf.find(vm) for vm in uf.parent})
            reasons: dict[tuple[str, str], Precedence] = {}
            for precedence in precedences:
                a, b = uf.find(precedence[0]), uf.find(precedence[1])
                if a != b:
                    dag.add_edge(a, b)
                    reasons.setdefault((a, b), precedence)
            cycles = [c for c in nx.strongly_connected_components(dag) if len(c) > 1]
            if not cycles:
                break
            for cycle in cycles:
                roots = sorted(cycle)
                sub = dag.subgraph(roots)
                why = "; ".join(precedence_reason(reasons[e]) for e in sorted(sub.edges)[:4])
                for other in roots[1:]:
                    uf.union(roots[0], other)
                    links.append(Link(roots[0], other, "two-way-dependencies", f"dependency cycle: {why}"))
        return uf.groups(), links, precedences

    # -- 2. facts per group --------------------------------------------------------------------
    def _describe(self, groups: list[Group], group_of: dict[str, int]) -> None:
        p = self.params
        externals: dict[int, set[str]] = defaultdict(set)
        dgraph = self.graph.g
        for other in dgraph:  # from the external endpoints, not over every edge
            if other not in self.graph.facts:
                for vm in (*dgraph.pred[other], *dgraph.succ[other]):
                    if vm in group_of:
                        externals[group_of[vm]].add(other)
        for g in groups:
            for vm in g.members:
                f = self.graph.facts[vm]
                g.vms += 1
                g.disks += f.disks
                g.gb += f.replicate_gb if p.bandwidth_mbps else f.storage_gb
                if f.host:
                    g.hosts[f.host] += 1
                if f.critical:
                    g.critical.append(f"{vm}: {f.critical}")
                if vm in self.ctx.shared:
                    g.shared.append(f"{vm} ({self.ctx.shared[vm]})")
                g.concerns += [f"{vm}: {c}" for c in f.concerns]
            classes = {self.graph.facts[vm].env_class for vm in g.members}
            g.env_class = "prod" if "prod" in classes else "nonprod"  # a mixed group moves as prod
            g.external = len(externals[g.gid])
            if g.vms > p.complex_vms:
                g.critical.append(f"complex: {g.vms} VMs (more than {p.complex_vms})")
            if g.external > p.complex_external:
                g.critical.append(
                    f"complex: {g.external} external endpoints (more than {p.complex_external})"
                )
            critical = bool(g.critical) and not g.shared
            env = "nonprod" if g.env_class == "nonprod" else "prod"
            g.phase = f"{env}-critical" if critical else env

    def _too_big(self, g: Group) -> str | None:
        p = self.params
        over = []
        if g.vms > p.max_vms:
            over.append(f"{g.vms} VMs > --max-vms {p.max_vms} (smallest relaxation: --max-vms {g.vms})")
        if p.max_disks is not None and g.disks > p.max_disks:
            over.append(
                f"{g.disks} disks > --max-disks {p.max_disks} (smallest relaxation: --max-disks {g.disks})"
            )
        budget = p.storage_budget_gb
        if budget is not None and g.gb > budget:
            relax = (
                f"--max-storage-gb {int(g.gb) + 1}"
                if p.max_storage_gb is not None
                else f"--window-hours {p.replication_hours(g.gb):.1f} at {p.bandwidth_mbps:g} Mbps"
            )
            over.append(f"{g.gb:.0f} GB > the {budget:.0f} GB budget (smallest relaxation: {relax})")
        if p.max_per_host is not None and g.hosts:
            host, n = max(sorted(g.hosts.items()), key=lambda kv: kv[1])
            if n > p.max_per_host:
                over.append(
                    f"{n} VMs on host {host} > --max-per-host {p.max_per_host} "
                    f"(smallest relaxation: --max-per-host {n})"
                )
        if not over:
            return None
        tied = Counter(link.rule for link in g.links)
        ties = ", ".join(f"{rule} x{n}" for rule, n in sorted(tied.items()))
        return (
            f"move group of {g.vms} VMs ({', '.join(g.members[:5])}{', ...' if g.vms > 5 else ''}) "
            f"cannot fit one wave: {'; '.join(over)}; tied by {ties or 'nothing'}"
        )

    # -- 3. pins -------------------------------------------------------------------------------
    def _apply_pins(self, groups: list[Group], group_of: dict[str, int], dag: nx.DiGraph) -> None:
        for g in groups:
            pinned = {vm: self.ctx.pins[vm] for vm in g.members if vm in self.ctx.pins}
            if len(set(pinned.values())) > 1:
                a, wa = min(pinned.items(), key=lambda kv: kv[1])
                b, wb = max(pinned.items(), key=lambda kv: kv[1])
                why = g.links[0].reason if g.links else "same move group"
                raise UsageError(
                    f"pins conflict: {a} (wave {wa}) and {b} (wave {wb}) must move together ({why}); "
                    "unpin one or pin both to the same wave"
                )
            if pinned:
                g.pin = next(iter(pinned.values())) - 1
        for a, b in dag.edges:
            ga, gb = groups[a], groups[b]
            if ga.pin is not None and gb.pin is not None and ga.pin > gb.pin:
                raise UsageError(
                    f"pins conflict: {gb.members[0]} (wave {gb.pin + 1}) depends on {ga.members[0]} "
                    f"(wave {ga.pin + 1}), which would move later; change one of the pins"
                )

    # -- 4. pilot ------------------------------------------------------------------------------
    def _pick_pilot(self, groups: list[Group], dag: nx.DiGraph) -> list[int]:
        if self.params.pilot_vms == 0:
            return []
        candidates = [
            g
            for g in groups
            if g.unplaced is None
            and g.pin is None
            and not g.critical
            and not g.shared
            and dag.in_degree(g.gid) == 0
            and dag.out_degree(g.gid) == 0
        ]
        candidates.sort(
            key=lambda g: (g.env_class != "nonprod", len(g.concerns), g.external, g.vms, g.members[0])
        )
        chosen: list[int] = []
        room = min(self.params.pilot_vms, self.params.max_vms)
        env = candidates[0].env_class if candidates else None
        for g in candidates:
            if g.vms <= room and g.env_class == env:
                chosen.append(g.gid)
                room -= g.vms
                g.phase = "pilot"
                g.placement = "pilot: a small, low-risk group with no dependencies beyond shared services"
        return chosen

    # -- 5. affinity order ---------------------------------------------------------------------
    def _group_traffic(self, group_of: dict[str, int]) -> dict[int, dict[int, float]]:
        adj: dict[int, dict[int, float]] = defaultdict(lambda: defaultdict(float))
        for u, v, data in self.graph.vm_edges():
            if data["bytes"] and u in group_of and v in group_of:
                a, b = group_of[u], group_of[v]
                if a != b:
                    w = self.graph.per_day(data["bytes"])
                    adj[a][b] += w
                    adj[b][a] += w
        return {a: dict(peers) for a, peers in adj.items()}  # plain dicts: read only, may be shared

    def _communities(self, groups: list[Group], adj: dict[int, dict[int, float]]) -> dict[int, int]:
        cg = nx.Graph()
        cg.add_nodes_from(g.gid for g in groups if not g.shared)
        for a, peers in adj.items():
            for b, w in peers.items():
                if a < b and a in cg and b in cg:
                    cg.add_edge(a, b, weight=w)
        found = nx.community.louvain_communities(cg, weight="weight", seed=self.params.seed)
        ordered = sorted(
            (sorted(c) for c in found),
            key=lambda c: (-sum(groups[i].vms for i in c), groups[c[0]].members[0]),
        )
        return {gid: rank for rank, members in enumerate(ordered) for gid in members}

    # -- 6. placement --------------------------------------------------------------------------
    def _slot(self, phase: str) -> str:
        """Groups of the same slot may share a wave (prod and dev/test meet with --mix-environments)."""
        if self.params.mix_environments and phase != "pilot":
            return "critical" if phase.endswith("critical") else "any"
        return phase

    def _compatible(self, wave: Wave, g: Group) -> bool:
        if wave.phase is None or g.pin is not None:
            return True
        return self._slot(wave.phase) == self._slot(g.phase)

    def _fits(self, wave: Wave, g: Group) -> bool:
        p = self.params
        if wave.vms + g.vms > p.max_vms:
            return False
        if p.max_disks is not None and wave.disks + g.disks > p.max_disks:
            return False
        budget = p.storage_budget_gb
        if budget is not None and wave.gb + g.gb > budget + 1e-6:
            return False
        if p.max_per_host is not None:
            return all(wave.hosts[h] + n <= p.max_per_host for h, n in g.hosts.items())
        return True

    @staticmethod
    def _add(wave: Wave, g: Group, sign: int = 1) -> None:
        wave.vms += sign * g.vms
        wave.disks += sign * g.disks
        wave.gb += sign * g.gb
        for h, n in g.hosts.items():
            wave.hosts[h] += sign * n
        if sign > 0:
            wave.groups.append(g.gid)
            if wave.phase is None:
                wave.phase = g.phase
        else:
            wave.groups.remove(g.gid)

    def plan(self) -> Placement:
        groups, group_of, dag = self._move_groups()
        self._describe(groups, group_of)
        for g in groups:
            g.unplaced = self._too_big(g)
        self._apply_pins(groups, group_of, dag)
        pilot = self._pick_pilot(groups, dag)
        # traffic between groups and their communities: pins change neither (kept per plan)
        adj = memo(self.ctx, "group-traffic", lambda: self._group_traffic(group_of))
        community = memo(self.ctx, "communities", lambda: self._communities(groups, adj))

        def sort_key(gid: int) -> tuple[int, int, int, str]:
            g = groups[gid]
            return (PHASE_RANK[g.phase], 0 if g.shared else 1, community.get(gid, -1), g.members[0])

        order = list(nx.lexicographical_topological_sort(dag, key=sort_key))

        # upper bounds: a target must not move after a pinned dependent
        ub: dict[int, int] = {}
        for gid in reversed(order):
            bounds = [ub[d] for d in dag.successors(gid) if d in ub]
            if groups[gid].pin is not None:
                bounds.append(groups[gid].pin)
            if bounds:
                ub[gid] = min(bounds)

        waves: list[Wave] = []
        last_pin = max((g.pin for g in groups if g.pin is not None), default=-1)
        waves += [Wave(None) for _ in range(last_pin + 1)]
        if pilot and not waves:
            waves.append(Wave("pilot"))
        elif pilot:
            waves[0].phase = waves[0].phase or "pilot"
        wave_of: dict[int, int] = {}
        for g in groups:
            if g.pin is not None and g.unplaced is None:
                if not self._fits(waves[g.pin], g):
                    raise UsageError(
                        f"pins to wave {g.pin + 1} do not fit its capacity (adding {g.label}); "
                        "raise the limits or pin fewer VMs there"
                    )
                self._add(waves[g.pin], g)
                wave_of[g.gid] = g.pin
                g.placement = f"pinned to wave {g.pin + 1} by an architect (rule pins)"
        for gid in pilot:
            if gid not in wave_of:
                self._add(waves[0], groups[gid])
                wave_of[gid] = 0
        by_phase: dict[str, list[int]] = defaultdict(list)
        for index, wave in enumerate(waves):
            if wave.phase:
                by_phase[self._slot(wave.phase)].append(index)

        for gid in order:
            g = groups[gid]
            if g.unplaced is not None or gid in wave_of:
                continue
            blockers = [t for t in dag.predecessors(gid) if t in wave_of]
            lb = max((wave_of[t] for t in blockers), default=0)
            limit = ub.get(gid)
            traffic = _traffic_by_wave(gid, adj, wave_of)
            nearby = [i for i in by_phase.get(self._slot(g.phase), []) if i >= lb][-NEARBY_WAVES:]
            unclaimed = [i for i in range(lb, last_pin + 1) if waves[i].phase is None]  # kept for pins
            candidates = sorted(set(traffic) | set(nearby) | set(unclaimed))
            best: tuple[float, int] | None = None
            for i in candidates:
                if i < lb or (limit is not None and i > limit):
                    continue
                wave = waves[i]
                if wave.phase == "pilot" or not self._compatible(wave, g) or not self._fits(wave, g):
                    continue
                score = (traffic.get(i, 0.0), -i)
                if best is None or score > best:
                    best = score
            if best is None:
                if limit is not None and len(waves) > limit:
                    g.unplaced = (
                        f"must move by wave {limit + 1} (a pinned VM depends on it) but no wave up to "
                        "there has room or the right phase"
                    )
                    continue
                waves.append(Wave(g.phase))
                index = len(waves) - 1
                by_phase[self._slot(g.phase)].append(index)
                g.placement = self._why_new(g, lb, blockers, wave_of, groups)
            else:
                index = -best[1]
                g.placement = self._why_join(g, index, best[0], lb, blockers, wave_of, groups)
            if waves[index].phase is None:
                by_phase[self._slot(g.phase)].append(index)
                by_phase[self._slot(g.phase)].sort()
            self._add(waves[index], g)
            wave_of[gid] = index

        self._refine(groups, waves, wave_of, adj, dag, ub)
        self._compact(groups, waves, wave_of, adj, dag, ub, order, last_pin)
        return self._finish(groups, group_of, waves, wave_of, last_pin)

    def _why_new(
        self, g: Group, lb: int, blockers: list[int], wave_of: dict[int, int], groups: list[Group]
    ) -> str:
        why = f"opens a new {PHASE_LABEL[g.phase].lower()} wave"
        if blockers and lb == max(wave_of.values(), default=0):
            t = max(blockers, key=lambda b: (wave_of[b], groups[b].members[0]))
            return f"{why}: it depends on {groups[t].label}, planned in the wave before (dependency-order)"
        return f"{why}: earlier waves of this phase are full or come before its dependencies"

    def _why_join(
        self,
        g: Group,
        index: int,
        traffic: float,
        lb: int,
        blockers: list[int],
        wave_of: dict[int, int],
        groups: list[Group],
    ) -> str:
        parts = []
        if traffic > 0:
            parts.append(f"joins the wave holding most of its traffic ({traffic / 1e9:.3g} GB/day)")
        else:
            parts.append(f"joins the earliest {PHASE_LABEL[g.phase].lower()} wave with room")
        if blockers and lb == index:
            t = max(blockers, key=lambda b: (wave_of[b], groups[b].members[0]))
            parts.append(f"not earlier: it depends on {groups[t].label} (dependency-order)")
        return "; ".join(parts)

    # -- 7. refinement -------------------------------------------------------------------------
    def _refine(
        self,
        groups: list[Group],
        waves: list[Wave],
        wave_of: dict[int, int],
        adj: dict[int, dict[int, float]],
        dag: nx.DiGraph,
        ub: dict[int, int],
    ) -> None:
        movable = sorted(
            # shared services stay where placement put them: early, ahead of their clients
            (
                gid
                for gid in wave_of
                if groups[gid].pin is None and groups[gid].phase != "pilot" and not groups[gid].shared
            ),
            key=lambda gid: groups[gid].members[0],
        )
        for _ in range(REFINE_PASSES):
            moved = 0
            for gid in movable:
                g = groups[gid]
                cur = wave_of[gid]
                traffic = _traffic_by_wave(gid, adj, wave_of)
                lb = max((wave_of[t] for t in dag.predecessors(gid) if t in wave_of), default=0)
                hi = min((wave_of[d] for d in dag.successors(gid) if d in wave_of), default=len(waves))
                if gid in ub:
                    hi = min(hi, ub[gid])
                best, gain = cur, 0.0
                for i, t in sorted(traffic.items()):
                    if i == cur or not lb <= i <= hi:
                        continue
                    if (
                        waves[i].phase == "pilot"
                        or not self._compatible(waves[i], g)
                        or not self._fits(waves[i], g)
                    ):
                        continue
                    if t - traffic.get(cur, 0.0) > gain + 1e-9:
                        best, gain = i, t - traffic.get(cur, 0.0)
                if best != cur:
                    self._add(waves[cur], g, -1)
                    self._add(waves[best], g)
                    wave_of[gid] = best
                    g.placement = f"moved by refinement: cuts cross-wave traffic by {gain / 1e9:.3g} GB/day"
                    moved += 1
            if not moved:
                break

    # -- 8. fuller waves ------------------------------------------------------------------------
    def _compact(
        self,
        groups: list[Group],
        waves: list[Wave],
        wave_of: dict[int, int],
        adj: dict[int, dict[int, float]],
        dag: nx.DiGraph,
        ub: dict[int, int],
        order: list[int],
        last_pin: int,
    ) -> None:
        """Phases and the per-host limit leave waves part-full: empty the smallest waves into the
        other waves of the same phase when every group finds one that keeps every hard rule
        (capacity, host limit, dependency order, pins); else nothing moves for that wave."""
        rank = {gid: i for i, gid in enumerate(order)}
        for index in sorted(range(len(waves)), key=lambda i: (waves[i].vms, i)):
            wave = waves[index]
            if index <= last_pin or wave.phase in (None, "pilot") or not wave.groups:
                continue
            original = list(wave.groups)
            members = sorted(original, key=lambda gid: rank.get(gid, -1))
            if any(groups[gid].pin is not None for gid in members):
                continue
            moves: list[tuple[int, int]] = []
            for gid in members:
                target = self._home(groups[gid], index, waves, wave_of, adj, dag, ub)
                if target is None:
                    break
                moves.append((gid, target))
                self._add(waves[index], groups[gid], -1)
                self._add(waves[target], groups[gid])
                wave_of[gid] = target
            if len(moves) < len(members):  # this wave stays: undo its moves
                for gid, target in reversed(moves):
                    self._add(waves[target], groups[gid], -1)
                    self._add(waves[index], groups[gid])
                    wave_of[gid] = index
                wave.groups[:] = original
                continue
            for gid, _target in moves:
                groups[gid].placement += (
                    f"; its first wave was merged into the other {PHASE_LABEL[groups[gid].phase].lower()} "
                    "waves, which had room (fuller waves)"
                )

    def _home(
        self,
        g: Group,
        cur: int,
        waves: list[Wave],
        wave_of: dict[int, int],
        adj: dict[int, dict[int, float]],
        dag: nx.DiGraph,
        ub: dict[int, int],
    ) -> int | None:
        """Another wave of g's phase where g keeps every hard rule: most of its traffic, then earliest."""
        lb = max((wave_of[t] for t in dag.predecessors(g.gid) if t in wave_of), default=0)
        hi = min((wave_of[d] for d in dag.successors(g.gid) if d in wave_of), default=len(waves))
        hi = min(hi, ub.get(g.gid, hi), cur if g.shared else hi)  # shared services only move earlier
        traffic = _traffic_by_wave(g.gid, adj, wave_of)
        best: tuple[float, int] | None = None
        room = self.params.max_vms - g.vms  # most waves are full: tested first, without a call
        for i in range(lb, min(hi, len(waves) - 1) + 1):
            w = waves[i]
            if w.vms > room or i == cur or not w.groups or w.phase != g.phase or not self._fits(w, g):
                continue
            score = (traffic.get(i, 0.0), -i)
            if best is None or score > best:
                best = score
        return None if best is None else -best[1]

    # -- 9. numbering --------------------------------------------------------------------------
    def _finish(
        self,
        groups: list[Group],
        group_of: dict[str, int],
        waves: list[Wave],
        wave_of: dict[int, int],
        last_pin: int,
    ) -> Placement:
        keep = [i for i, w in enumerate(waves) if w.groups or i <= last_pin]
        number = {old: new + 1 for new, old in enumerate(keep)}
        kept = [waves[i] for i in keep]
        wave_of_vm: dict[str, int] = {}
        for gid, index in wave_of.items():
            for vm in groups[gid].members:
                wave_of_vm[vm] = number[index]
        for g in groups:
            if g.unplaced is not None:
                self.unplaced += [{"vm": vm, "reason": g.unplaced} for vm in g.members]
        self.unplaced.sort(key=lambda u: u["vm"])
        for i, w in enumerate(kept):
            if not w.groups:
                self.notes.append(f"wave {i + 1} is empty: kept so that pinned wave numbers hold")
        return Placement(
            ctx=self.ctx,
            groups=groups,
            waves=kept,
            wave_of_vm=wave_of_vm,
            unplaced=self.unplaced,
            group_of=group_of,
            notes=self.notes,
        )


def _traffic_by_wave(gid: int, adj: dict[int, dict[int, float]], wave_of: dict[int, int]) -> dict[int, float]:
    """Bytes per day between a group and each wave holding its placed traffic partners."""
    traffic: dict[int, float] = defaultdict(float)
    for other, w in adj.get(gid, {}).items():
        if other in wave_of:
            traffic[wave_of[other]] += w
    return traffic


def place(graph: DependencyGraph, params: PlanParameters, pins: Mapping[str, int] | None = None) -> Placement:
    return Planner(graph, params, pins or {}).plan()


def violations(placement: Placement) -> list[dict[str, Any]]:
    return [{"rule": v.rule, "message": v.message} for v in check_plan(placement.ctx, placement.wave_of_vm)]
