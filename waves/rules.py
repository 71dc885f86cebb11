"""The planning rules, in the order they apply, each one explicit and separately tested.

Kinds:
- `together`: pairs of VMs that must move in the same wave (hard);
- `order`: a group that must move no later than another (hard);
- `separate`: which groups may share a wave (hard unless configured off);
- `prefer`: how groups are ranked when the hard rules leave a choice;
- `limit`: capacity a wave must respect (hard), checked on the finished plan.
Every hard rule can `check` a finished plan; the planner runs all checks and a plan carries any
violation it finds (there should be none: the benchmark counts them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, TypeVar

import networkx as nx

from waves.graph import DependencyGraph
from waves.parameters import PlanParameters

KINDS = ("classify", "together", "order", "separate", "prefer", "limit")


@dataclass(frozen=True, slots=True)
class Link:
    a: str
    b: str
    rule: str
    reason: str


@dataclass(frozen=True, slots=True)
class Violation:
    rule: str
    message: str


@dataclass
class PlanContext:
    graph: DependencyGraph
    params: PlanParameters
    pins: Mapping[str, int] = field(default_factory=dict)
    shared: dict[str, str] = field(default_factory=dict)  # VM -> why it is a shared service


class Rule:
    id: ClassVar[str]
    kind: ClassVar[str]
    title: ClassVar[str]
    description: ClassVar[str]

    def check(self, ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
        """Violations of this rule in a finished plan (VM -> wave number)."""
        return []


class TogetherRule(Rule):
    kind = "together"

    def links(self, ctx: PlanContext) -> Iterator[Link]:
        raise NotImplementedError

    def check(self, ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
        return [
            Violation(
                self.id,
                f"{link.a} (wave {waves[link.a]}) and {link.b} (wave {waves[link.b]}) "
                f"must move together: {link.reason}",
            )
            for link in links_of(self, ctx)
            if link.a in waves and link.b in waves and waves[link.a] != waves[link.b]
        ]


T = TypeVar("T")


def memo(ctx: PlanContext, key: str, compute: Callable[[], T]) -> T:
    """`compute()`, which must depend on the graph and the parameters alone (never the pins), kept
    on the graph once it is frozen (waves.plan.prepare), so each what-if of a plan reuses it.
    What it returns is shared: callers only read it."""
    if not nx.is_frozen(ctx.graph.g):
        return compute()
    full = (key, ctx.params, tuple(ctx.shared))  # the links also follow from the shared services
    try:
        found = ctx.graph.memo.get(full)
    except TypeError:  # parameters holding a list: unhashable, so not kept
        return compute()
    if found is None:
        found = ctx.graph.memo[full] = compute()
    return found


def links_of(rule: TogetherRule, ctx: PlanContext) -> list[Link]:
    """The rule's links (they follow from the graph, the parameters and the shared services)."""
    return memo(ctx, f"links:{rule.id}", lambda: list(rule.links(ctx)))


# (target, dependent, the edge's data): the target must not move after the dependent
Precedence = tuple[str, str, dict[str, Any]]


def precedences_of(ctx: PlanContext) -> list[Precedence]:
    return memo(ctx, "precedences", lambda: list(DEPENDENCY_ORDER.precedences(ctx)))


def shared_of(ctx: PlanContext) -> dict[str, str]:
    return memo(ctx, "shared", lambda: SHARED.classify(ctx))


def _depends_edges(ctx: PlanContext) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for u, v, data in ctx.graph.vm_edges():
        if data["depends"]:
            yield u, v, data


def _star(rule: str, key_of: Mapping[str, Any], reason: Callable[[Any, list[str]], str]) -> Iterator[Link]:
    """Link every VM sharing a key to the first (by name) of them: enough for union-find."""
    members_of: dict[Any, list[str]] = defaultdict(list)
    for name, key in key_of.items():
        members_of[key].append(name)
    for key, members in sorted(members_of.items()):
        members.sort()
        why = reason(key, members)
        for other in members[1:]:
            yield Link(members[0], other, rule, why)


def _ports(data: dict[str, Any]) -> str:
    return ", ".join(data["ports"][:3]) or "annotation"


# -- classify --------------------------------------------------------------------------------
class SharedServices(Rule):
    id = "shared-services"
    kind = "classify"
    title = "Shared services are recognised and do not glue applications together"
    description = (
        "A VM serving at least --shared-min-clients distinct client VMs (or connecting out to as many, like "
        "a backup or monitoring server), one whose tier is 'infra' or "
        "'shared', or one named in the configuration, is a shared service (DNS, AD, NFS, monitoring). "
        "Its traffic does not couple VMs into move groups and its clients need not wait for it: "
        "during the hybrid period it is reachable from both sides. It moves early in its environment."
    )

    def classify(self, ctx: PlanContext) -> dict[str, str]:
        shared: dict[str, str] = {}
        for name in ctx.params.shared_services:
            if name in ctx.graph.facts:
                shared[name] = "named as a shared service in the plan parameters"
        for name, f in ctx.graph.facts.items():
            if name not in shared and f.tier and f.tier.lower() in ("infra", "shared"):
                shared[name] = f"tier '{f.tier}'"
        clients: dict[str, set[str]] = defaultdict(set)
        servers: dict[str, set[str]] = defaultdict(set)
        for u, v, _data in _depends_edges(ctx):
            clients[v].add(u)
            servers[u].add(v)
        threshold = ctx.params.shared_min_clients
        for name in sorted(set(clients) | set(servers)):
            if name in shared:
                continue
            if len(clients[name]) >= threshold:
                shared[name] = f"serves {len(clients[name])} client VMs"
            elif len(servers[name]) >= threshold:  # backup or monitoring: a client of everyone
                shared[name] = f"connects out to {len(servers[name])} VMs (a backup or monitoring style hub)"
        return dict(sorted(shared.items()))


# -- together --------------------------------------------------------------------------------
class TwoWayDependencies(TogetherRule):
    id = "two-way-dependencies"
    title = "Servers with two-way dependencies move together"
    description = (
        "If A depends on B and B depends on A (flows both ways to service ports, or annotations), "
        "neither can move first without breaking the other, so they share a wave. Shared services "
        "are exempt. Cycles through several groups are merged the same way (dependency-cycles)."
    )

    def links(self, ctx: PlanContext) -> Iterator[Link]:
        g = ctx.graph.g
        for u, v, data in _depends_edges(ctx):
            if u < v and u not in ctx.shared and v not in ctx.shared and g.has_edge(v, u):
                back = g.edges[v, u]
                if back["depends"]:
                    reason = f"{u} -> {v} ({_ports(data)}) and {v} -> {u} ({_ports(back)})"
                    yield Link(u, v, self.id, reason)


class ApplicationTogether(TogetherRule):
    id = "application-together"
    title = "An application moves as one"
    description = (
        "VMs with the same application value (custom attribute or tag named by --app-key, default "
        "app/application) and the same environment move in one wave."
    )

    def links(self, ctx: PlanContext) -> Iterator[Link]:
        def describe(key: tuple[str, str], members: list[str]) -> str:
            return f"same application '{key[0]}' ({key[1]}, {ctx.graph.facts[members[0]].app_source})"

        facts = ctx.graph.facts.items()
        yield from _star(self.id, {n: (f.app, f.env_class) for n, f in facts if f.app}, describe)


class DrsAffinity(TogetherRule):
    id = "drs-affinity"
    title = "DRS VM-VM affinity rules move together"
    description = "Members of an enabled DRS keep-together rule share a wave (they run together today)."

    def links(self, ctx: PlanContext) -> Iterator[Link]:
        for rule in ctx.graph.affinity:
            members = rule["vms"]
            for other in members[1:]:
                yield Link(
                    members[0], other, self.id, f"DRS affinity rule {rule['rule']} ({rule['cluster']})"
                )


class VAppTogether(TogetherRule):
    id = "vapp-together"
    title = "A vApp moves as one"
    description = "VMs of the same vApp share a wave: the vApp defines their start order and networks."

    def links(self, ctx: PlanContext) -> Iterator[Link]:
        vapps = {name: f.vapp for name, f in ctx.graph.facts.items() if f.vapp}
        yield from _star(self.id, vapps, lambda vapp, _members: f"same vApp '{vapp}'")


class DeclaredPeers(TogetherRule):
    id = "declared-peers"
    title = "Peers named in annotations move together"
    description = "An annotation such as 'Replica: db-02' or 'clustered with X' ties the two VMs together."

    def links(self, ctx: PlanContext) -> Iterator[Link]:
        for u, v, data in ctx.graph.vm_edges():
            for ev in data["evidence"]:
                if ev["kind"] == "annotation-peer":
                    yield Link(u, v, self.id, f"annotation {ev['detail']}")


class StrongCoupling(TogetherRule):
    id = "strong-coupling"
    title = "Strongly coupled pairs move together"
    description = (
        "Two VMs exchanging at least --couple-gb-per-day (default 1 GB a day over the observed window) "
        "would suffer the hybrid link's latency and egress if split, so they share a wave. Shared "
        "services are exempt."
    )

    def links(self, ctx: PlanContext) -> Iterator[Link]:
        threshold = ctx.params.couple_gb_per_day * 1e9
        volume: dict[tuple[str, str], float] = defaultdict(float)
        for u, v, data in ctx.graph.vm_edges():
            if data["bytes"] and u not in ctx.shared and v not in ctx.shared:
                volume[(min(u, v), max(u, v))] += ctx.graph.per_day(data["bytes"])
        for (a, b), per_day in sorted(volume.items()):
            if per_day >= threshold:
                yield Link(a, b, self.id, f"{per_day / 1e9:.3g} GB/day between them")


# -- order -----------------------------------------------------------------------------------
class DependencyOrder(Rule):
    id = "dependency-order"
    kind = "order"
    title = "Dependency targets move no later than their dependents"
    description = (
        "If A depends on B, B's wave is not after A's (the same wave is fine): a moved service never "
        "waits for its backend on the far side of the hybrid link. Shared services are exempt as targets."
    )

    def precedences(self, ctx: PlanContext) -> Iterator[Precedence]:
        """(target, dependent, data) for every dependency between two VMs; the reason is written
        only where one is shown (precedence_reason): half a million strings at 100,000 VMs."""
        for u, v, data in _depends_edges(ctx):
            if v not in ctx.shared:
                yield v, u, data

    def check(self, ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
        return [
            Violation(
                self.id,
                f"{target} (wave {waves[target]}) moves after {dependent} "
                f"(wave {waves[dependent]}): {precedence_reason((target, dependent, data))}",
            )
            for target, dependent, data in precedences_of(ctx)
            if target in waves and dependent in waves and waves[target] > waves[dependent]
        ]


def precedence_reason(precedence: Precedence) -> str:
    target, dependent, data = precedence
    return f"{dependent} depends on {target} ({_ports(data)})"


# -- separate / prefer -----------------------------------------------------------------------
class EnvironmentSeparation(Rule):
    id = "environment-separation"
    kind = "separate"
    title = "Prod and dev/test do not share a wave"
    description = (
        "Environment values dev, test, qa, uat, staging, ... are dev/test; anything else, including no "
        "value, counts as prod. They never share a wave unless --mix-environments is given; pinned VMs "
        "are the architect's explicit exception."
    )

    def check(self, ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
        if ctx.params.mix_environments:
            return []
        classes: dict[int, set[str]] = defaultdict(set)
        for vm, wave in waves.items():
            if vm not in ctx.pins:
                classes[wave].add(ctx.graph.facts[vm].env_class)
        return [
            Violation(self.id, f"wave {wave} mixes prod and dev/test")
            for wave, found in sorted(classes.items())
            if len(found) > 1
        ]


class NonprodFirst(Rule):
    id = "nonprod-first"
    kind = "prefer"
    title = "Dev/test before prod"
    description = "Dev/test waves come before prod waves unless a dependency needs a prod group earlier."


class PilotFirst(Rule):
    id = "pilot-first"
    kind = "prefer"
    title = "A small, low-risk pilot wave first"
    description = (
        "Wave 1 is a pilot of at most --pilot-vms VMs (default 5): dev/test groups first, with no "
        "dependencies on or from anything but shared services, not critical, fewest concerns and "
        "external endpoints. --pilot-vms 0 turns it off."
    )


class CriticalLate(Rule):
    id = "critical-late"
    kind = "prefer"
    title = "Critical or complex applications do not move early"
    description = (
        "Groups with a VM marked critical (criticality high/critical), more than --complex-vms VMs or "
        "more than --complex-external external endpoints move in their own waves after the other prod "
        "waves, unless something depends on them."
    )


# -- limits ------------------------------------------------------------------------------------
class WaveCapacity(Rule):
    id = "wave-capacity"
    kind = "limit"
    title = "Every wave fits its capacity"
    description = (
        "At most --max-vms VMs (default 50), --max-disks disks (default 500) and --max-storage-gb GB, or "
        "the data a --bandwidth-mbps link replicates in --window-hours (80% usable)."
    )

    def check(self, ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
        load: dict[int, list[float]] = defaultdict(lambda: [0, 0, 0.0])
        for vm, wave in waves.items():
            f = ctx.graph.facts[vm]
            load[wave][0] += 1
            load[wave][1] += f.disks
            load[wave][2] += f.replicate_gb if ctx.params.bandwidth_mbps else f.storage_gb
        p = ctx.params
        found = []
        for wave, (vms, disks, gb) in sorted(load.items()):
            if vms > p.max_vms:
                found.append(Violation(self.id, f"wave {wave} has {vms} VMs, over --max-vms {p.max_vms}"))
            if p.max_disks is not None and disks > p.max_disks:
                found.append(Violation(self.id, f"wave {wave} has {disks} disks, over {p.max_disks}"))
            budget = p.storage_budget_gb
            if budget is not None and gb > budget + 1e-6:
                found.append(Violation(self.id, f"wave {wave} holds {gb:.0f} GB, over {budget:.0f} GB"))
        return found


class HostLimit(Rule):
    id = "host-limit"
    kind = "limit"
    title = "At most N VMs per source ESXi host in flight"
    description = "A wave takes at most --max-per-host VMs (default 10) from one ESXi host."

    def check(self, ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
        limit = ctx.params.max_per_host
        if limit is None:
            return []
        per: dict[tuple[int, str], int] = defaultdict(int)
        for vm, wave in waves.items():
            host = ctx.graph.facts[vm].host
            if host:
                per[(wave, host)] += 1
        return [
            Violation(self.id, f"wave {wave} takes {n} VMs from host {host}, over {limit}")
            for (wave, host), n in sorted(per.items())
            if n > limit
        ]


class Pins(Rule):
    id = "pins"
    kind = "limit"
    title = "Architects' pins hold in every plan"
    description = (
        "`migrator waves pin VM --wave N` puts the VM (and its move group) in wave N in every re-plan."
    )

    def check(self, ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
        return [
            Violation(self.id, f"{vm} is pinned to wave {wave} but planned in wave {waves[vm]}")
            for vm, wave in sorted(ctx.pins.items())
            if vm in waves and waves[vm] != wave
        ]


SHARED = SharedServices()
TOGETHER_RULES: tuple[TogetherRule, ...] = (
    TwoWayDependencies(),
    ApplicationTogether(),
    DrsAffinity(),
    VAppTogether(),
    DeclaredPeers(),
    StrongCoupling(),
)
DEPENDENCY_ORDER = DependencyOrder()
RULES: tuple[Rule, ...] = (
    SHARED,
    *TOGETHER_RULES,
    DEPENDENCY_ORDER,
    EnvironmentSeparation(),
    NonprodFirst(),
    PilotFirst(),
    CriticalLate(),
    WaveCapacity(),
    HostLimit(),
    Pins(),
)


def check_plan(ctx: PlanContext, waves: Mapping[str, int]) -> list[Violation]:
    """Every hard-rule violation in a finished plan, rule by rule."""
    found: list[Violation] = []
    for rule in RULES:
        found += rule.check(ctx, waves)
    return found
