"""Each planning rule on its own, with exact VM names, then the planner's behaviour rule by rule."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from migrator.errors import UsageError
from tests.waves_helpers import cluster, flow, graph, pairs, plan, vm, waves_of
from waves import rules as R
from waves.rules import RULES, check_plan
from waves.synthetic import generate

DOCS = Path(__file__).resolve().parents[1] / "docs" / "waves.md"


def test_registry_metadata_is_complete_and_documented() -> None:
    ids = [rule.id for rule in RULES]
    assert len(ids) == len(set(ids)), "rule ids must be unique"
    doc = DOCS.read_text(encoding="utf-8")
    for rule in RULES:
        assert re.fullmatch(r"[a-z]+(-[a-z]+)*", rule.id), rule.id
        assert rule.kind in R.KINDS, rule.id
        assert rule.title and len(rule.description) > 40, rule.id
        assert f"`{rule.id}`" in doc, f"docs/waves.md does not describe {rule.id}"


# -- classify -------------------------------------------------------------------------------------
def test_shared_services_by_clients_tier_name_and_outbound_hub() -> None:
    clients = [vm(f"c{i:02d}", app=f"a{i}") for i in range(25)]
    vms = [
        *clients,
        vm("dns", app="dns"),
        vm("ad", custom={"tier": "infra"}),
        vm("backup"),
        vm("db", app="x"),
        vm("named"),
    ]
    flows = [flow(c["name"], "dns", 53) for c in clients]
    flows += [flow("backup", c["name"], 10000) for c in clients]
    flows += [flow(f"c{i:02d}", "db", 5432) for i in range(3)]
    _g, ctx = graph(vms, flows, shared_services=("named",))
    assert set(ctx.shared) == {"dns", "ad", "backup", "named"}
    assert ctx.shared["dns"] == "serves 25 client VMs"
    assert ctx.shared["ad"] == "tier 'infra'"
    assert "connects out to 25 VMs" in ctx.shared["backup"]


# -- together -------------------------------------------------------------------------------------
def test_two_way_dependencies_pair_only_mutual_non_shared() -> None:
    vms = [vm("a"), vm("b"), vm("c"), vm("infra", custom={"tier": "infra"})]
    flows = [
        flow("a", "b", 8080),
        flow("b", "a", 9090),
        flow("a", "c", 8080),
        flow("c", "infra", 53),
        flow("infra", "c", 8443),
    ]
    _g, ctx = graph(vms, flows)
    assert pairs(R.TwoWayDependencies(), ctx) == {("a", "b")}
    (link,) = R.TwoWayDependencies().links(ctx)
    assert link.reason == "a -> b (tcp/8080) and b -> a (tcp/9090)"


def test_application_together_within_one_environment() -> None:
    vms = [
        vm("shop-web", app="shop"),
        vm("shop-db", app="shop"),
        vm("shop-dev", app="shop", env="dev"),
        vm("other", app="crm"),
    ]
    _g, ctx = graph(vms)
    assert pairs(R.ApplicationTogether(), ctx) == {("shop-db", "shop-web")}


def test_application_from_tag_category() -> None:
    vms = [vm("x1", tags=["Application:billing"]), vm("x2", tags=["Application:billing"])]
    _g, ctx = graph(vms)
    (link,) = R.ApplicationTogether().links(ctx)
    assert (link.a, link.b) == ("x1", "x2") and "tag Application:billing" in link.reason


def test_drs_affinity_pairs_and_anti_affinity_recorded_not_paired() -> None:
    rules = [
        {"name": "keep", "kind": "vm-affinity", "enabled": True, "vms": ["a", "b", "c"]},
        {"name": "off", "kind": "vm-affinity", "enabled": False, "vms": ["d", "e"]},
        {"name": "apart", "kind": "vm-anti-affinity", "enabled": True, "vms": ["d", "e"]},
    ]
    g, ctx = graph([vm(n) for n in "abcde"], clusters=[cluster(*rules)])
    assert pairs(R.DrsAffinity(), ctx) == {("a", "b"), ("a", "c")}
    assert [r["rule"] for r in g.anti_affinity] == ["apart"] and g.anti_affinity[0]["vms"] == ["d", "e"]


def test_vapp_together() -> None:
    _g, ctx = graph([vm("v1", vapp="erp"), vm("v2", vapp="erp"), vm("v3", vapp="hr"), vm("v4")])
    assert pairs(R.VAppTogether(), ctx) == {("v1", "v2")}


def test_declared_peers_and_annotation_dependencies() -> None:
    vms = [
        vm("db-01", annotation="PostgreSQL primary. Replica: db-02."),
        vm("db-02"),
        vm("web", annotation="Storefront. Depends on app-01, and nothing else"),
        vm("app-01"),
    ]
    g, ctx = graph(vms)
    assert pairs(R.DeclaredPeers(), ctx) == {("db-01", "db-02")}
    assert g.g.edges["web", "app-01"]["depends"] is True
    assert g.g.edges["web", "app-01"]["evidence"][0]["detail"] == "web: 'Depends on app-01'"


def test_strong_coupling_threshold_per_day_and_shared_exempt() -> None:
    vms = [vm("a"), vm("b"), vm("c"), vm("d"), vm("nfs", custom={"tier": "infra"})]
    flows = [
        flow("a", "b", gb_per_day=1.5, days=7),
        flow("c", "d", gb_per_day=0.5, days=7),
        flow("a", "nfs", 2049, gb_per_day=50, days=7),
    ]
    g, ctx = graph(vms, flows)
    assert g.window_days == 7
    assert pairs(R.StrongCoupling(), ctx) == {("a", "b")}
    _g, loose = graph(vms, flows, couple_gb_per_day=0.4)
    assert pairs(R.StrongCoupling(), loose) == {("a", "b"), ("c", "d")}


# -- order ---------------------------------------------------------------------------------------
def test_dependency_order_precedences_exclude_shared_targets() -> None:
    vms = [vm("app"), vm("db"), vm("dns", custom={"tier": "infra"})]
    _g, ctx = graph(vms, [flow("app", "db", 5432), flow("app", "dns", 53)])
    assert [(t, d) for t, d, _r in R.DependencyOrder().precedences(ctx)] == [("db", "app")]


# -- planner behaviour ----------------------------------------------------------------------------
def test_dependency_targets_move_no_later() -> None:
    result = plan(
        [vm("front"), vm("api"), vm("store")],
        [flow("front", "api"), flow("api", "store")],
        max_vms=1,
        pilot_vms=0,
    )
    assert waves_of(result) == {1: ["store"], 2: ["api"], 3: ["front"]}
    assert result.document["violations"] == []


def test_nonprod_first_and_never_mixed() -> None:
    vms = [vm("p1", app="p"), vm("d1", app="d", env="dev"), vm("t1", app="t", env="uat")]
    result = plan(vms, pilot_vms=0)
    assert waves_of(result) == {1: ["d1", "t1"], 2: ["p1"]}
    assert [w["phase"] for w in result.document["waves"]] == ["nonprod", "prod"]
    mixed = plan(vms, pilot_vms=0, mix_environments=True)
    assert waves_of(mixed) == {1: ["d1", "p1", "t1"]}


def test_pilot_is_small_low_risk_and_independent() -> None:
    vms = [
        vm("dev-a", app="a", env="dev"),
        vm("dev-b1", app="b", env="dev"),
        vm("dev-b2", app="b", env="dev"),
        vm("dev-c", app="c", env="dev", snapshot_count=3),
        vm("dev-d", app="d", env="dev"),
        vm("dev-e", app="e", env="dev", custom={"criticality": "high"}),
        vm("prod-x", app="x"),
    ]
    result = plan(vms, [flow("dev-d", "dev-a")], pilot_vms=3)
    pilot = result.document["waves"][0]
    assert pilot["phase"] == "pilot"
    # dev-a and dev-d depend on each other's groups; dev-c has snapshots; dev-e is critical
    assert pilot["vms"] == ["dev-b1", "dev-b2", "dev-c"]
    assert result.document["vms"]["dev-b1"]["placement"].startswith("pilot:")


def test_critical_late_unless_something_depends_on_it() -> None:
    vms = [vm("crit", app="c", custom={"criticality": "high"}), vm("plain", app="p")]
    assert waves_of(plan(vms, pilot_vms=0)) == {1: ["plain"], 2: ["crit"]}
    needed = plan(vms, [flow("plain", "crit")], pilot_vms=0)
    assert waves_of(needed) == {1: ["crit"], 2: ["plain"]}
    assert "depends on crit" in needed.document["vms"]["plain"]["placement"]


def test_oversized_group_is_named_with_the_smallest_relaxation() -> None:
    vms = [vm(f"big-{i}", app="big", host=f"h{i}") for i in range(4)] + [vm("small", app="s")]
    result = plan(vms, max_vms=3, pilot_vms=0)
    assert waves_of(result) == {1: ["small"]}
    reasons = {u["vm"]: u["reason"] for u in result.document["unplaced"]}
    assert set(reasons) == {"big-0", "big-1", "big-2", "big-3"}
    assert "4 VMs > --max-vms 3 (smallest relaxation: --max-vms 4)" in reasons["big-0"]
    assert "application-together x3" in reasons["big-0"]


def test_replication_budget_from_bandwidth_and_window() -> None:
    # 100 Mbps at 80% for 1 hour moves 36 GB
    vms = [vm("a", app="a", gb=30), vm("b", app="b", gb=30), vm("huge", app="h", gb=100)]
    result = plan(vms, bandwidth_mbps=100, window_hours=1, pilot_vms=0)
    assert waves_of(result) == {1: ["a"], 2: ["b"]}
    (reason,) = {u["reason"] for u in result.document["unplaced"]}
    assert "100 GB > the 36 GB budget (smallest relaxation: --window-hours 2.8 at 100 Mbps)" in reason


def test_per_host_limit() -> None:
    vms = [vm(f"v{i}", app=f"a{i}", host="esx-1") for i in range(5)]
    result = plan(vms, max_per_host=2, pilot_vms=0)
    assert [len(w["vms"]) for w in result.document["waves"]] == [2, 2, 1]
    assert result.document["violations"] == []


def test_pins_hold_and_conflicts_are_refused() -> None:
    vms = [vm("a", app="a"), vm("b", app="b"), vm("c1", app="c"), vm("c2", app="c")]
    result = plan(vms, pins={"b": 3}, pilot_vms=0)
    assert waves_of(result)[3] == ["b"] and result.document["vms"]["b"]["pinned"] is True
    assert "pinned to wave 3" in result.document["vms"]["b"]["placement"]
    with pytest.raises(
        UsageError, match=r"pins conflict: c1 \(wave 1\) and c2 \(wave 2\) must move together"
    ):
        plan(vms, pins={"c1": 1, "c2": 2})
    with pytest.raises(UsageError, match=r"pins conflict: a \(wave 1\) depends on b \(wave 2\)"):
        plan(vms, [flow("a", "b")], pins={"a": 1, "b": 2})


def test_dependency_cycle_through_groups_merges_them() -> None:
    vms = [vm("x", app="x"), vm("y", app="y"), vm("z", app="z"), vm("w", app="w")]
    result = plan(vms, [flow("x", "y"), flow("y", "z"), flow("z", "x")], max_vms=3, pilot_vms=0)
    assert ["x", "y", "z"] in waves_of(result).values()
    tied = result.document["vms"]["x"]["tied_by"]
    assert any(
        t["rule"] == "two-way-dependencies" and t["reason"].startswith("dependency cycle") for t in tied
    )


def test_shared_services_do_not_glue_applications() -> None:
    vms = [vm("nfs", app="nfs")]
    flows = []
    for i in range(30):
        vms += [vm(f"w{i}", app=f"a{i}"), vm(f"d{i}", app=f"a{i}")]
        flows += [flow(f"w{i}", "nfs", 2049, gb_per_day=20), flow(f"d{i}", "nfs", 2049, gb_per_day=20)]
    result = plan(vms, flows, max_vms=10, pilot_vms=0)
    assert result.document["shared_services"] == [{"vm": "nfs", "reason": "serves 60 client VMs"}]
    assert result.document["vms"]["nfs"]["group"] == ["nfs"]
    assert result.document["unplaced"] == [] and result.document["violations"] == []
    assert "nfs" in result.document["waves"][0]["vms"]  # shared services lead their environment


def test_talking_applications_share_a_wave() -> None:
    vms = [vm(n, app=n[0]) for n in ("a1", "a2", "b1", "b2", "c1", "c2")]
    flows = [
        flow("a1", "a2", gb_per_day=5),
        flow("b1", "b2", gb_per_day=5),
        flow("c1", "c2", gb_per_day=5),
        flow("a1", "c1", gb_per_day=0.5),
    ]
    result = plan(vms, flows, max_vms=4, pilot_vms=0)
    assert sorted(waves_of(result).values()) == [["a1", "a2", "c1", "c2"], ["b1", "b2"]]
    assert result.document["cross_wave"]["edges"] == 0


def test_unknown_addresses_become_external_endpoints_and_shared_ips_ambiguous() -> None:
    vms = [vm("a"), vm("b", ip_addresses=["10.50.0.1"]), vm("c", ip_addresses=["10.50.0.1"])]
    g, _ctx = graph(vms, [flow("a", "203.0.113.9", 443), flow("a", "10.50.0.1", 22)])
    assert g.g.nodes["ext:203.0.113.9"]["kind"] == "external"
    assert g.g.has_edge("a", "ext:10.50.0.1") and g.stats["ambiguous_ips"] == 1


def test_environment_unknown_counts_as_prod() -> None:
    _g, ctx = graph([vm("x", env=None), vm("y", env="Staging")])
    assert ctx.graph.facts["x"].env_class == "prod" and ctx.graph.facts["y"].env_class == "nonprod"


def test_same_input_same_plan() -> None:
    estate = generate(400, seed=5)
    first = plan(estate.vms, estate.flows, estate.clusters).document
    second = plan(estate.vms, estate.flows, estate.clusters).document
    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


def test_planted_applications_stay_whole_and_no_rule_breaks() -> None:
    estate = generate(1500, seed=11)
    result = plan(estate.vms, estate.flows, estate.clusters)
    waves = result.placement.wave_of_vm
    split = [app for app, members in estate.apps.items() if len({waves.get(m) for m in members}) > 1]
    assert split == []
    assert check_plan(result.placement.ctx, waves) == []
    assert {s["vm"] for s in result.document["shared_services"]} == set(estate.shared)
    assert result.document["unplaced"] == []


def test_business_fact_precedence_custom_attribute_by_name_then_first_tag() -> None:
    """A fact is the first custom attribute by name among its keys with a value (any case),
    else the first tag of one of its categories with a value; blank values never count."""
    from waves.facts import lookup

    record = {
        "custom_fields": {"b-app": "x", "Application": "  ", "app": "billing", "APP": "Payroll"},
        "tags": ["env:", "Environment:qa", "env:prod", "application:tagged"],
    }
    # sorted names: APP < Application < app < b-app; Application is blank, APP comes first
    assert lookup(record, ("app", "application")) == ("Payroll", "custom attribute APP")
    assert lookup(record, ("application",)) == ("tagged", "tag application:tagged")
    # the blank env tag is skipped; the first tag with a value wins over a later one
    assert lookup(record, ("env", "environment")) == ("qa", "tag Environment:qa")
    assert lookup(record, ("owner",)) == (None, None)
    assert lookup({"custom_fields": {"Env": 3}}, ("env",)) == ("3", "custom attribute Env")
