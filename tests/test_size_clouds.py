"""`migrator size --cloud ...` and the per-cloud wave costs of `waves plan`, through the real CLI on
a real SQLite workspace (the demo estate). Expectations are computed here from the catalogue files
themselves, not by calling the sizing code: the cheapest entry that holds the need (and, on
Azure, the VM's data disks) at the guest OS family's rate, times 730 hours."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest

from tests.golden import FIXTURES, workspace_with
from tests.helpers import assert_one_line_error, migrator

DATA = Path(__file__).resolve().parents[1] / "waves" / "data"
FILES = {
    "aws": "aws-ec2-us-east-1.json",
    "azure": "azure-vm-eastus.json",
    "gcp": "gcp-compute-us-central1.json",
}
PRICED = ("aws", "azure", "gcp")


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workspace_with(tmp_path_factory.mktemp("size-clouds"), "demo.json", "demo-flows.csv")


def _catalogue(cloud: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((DATA / FILES[cloud]).read_text(encoding="utf-8"))
    return data


def _data_disks() -> dict[str, int]:
    doc = json.loads((FIXTURES / "inventories" / "demo.json").read_text(encoding="utf-8"))
    return {vm["name"]: max(0, len(vm["disks"]) - 1) for vm in doc["vms"] if not vm.get("template")}


def expected(
    cloud: str, vcpu: int, memory_mb: int, family: str, disks: int
) -> tuple[str | None, float | None]:
    """The catalogue's cheapest fitting entry for a need, read straight from the file."""
    data = _catalogue(cloud)
    rate = f"{family}_hourly"
    fits = [
        i
        for i in data["instances"]
        if i["vcpu"] >= vcpu
        and i["memory_gib"] * 1024 >= memory_mb
        and i.get(rate) is not None
        and (cloud != "azure" or i["max_data_disks"] >= disks)
    ]
    if not fits:
        return None, None
    best = sorted(fits, key=lambda i: (i[rate], i["vcpu"], i["memory_gib"], i["type"]))[0]
    return best["type"], round(best[rate] * data["hours_per_month"], 2)


def _expected_vm(vm: dict[str, Any], cloud: str, disks: dict[str, int]) -> tuple[str | None, float | None]:
    return expected(cloud, vm["vcpu"], vm["memory_mb"], vm["os_family"], disks[vm["vm"]])


def test_side_by_side_sizes_and_prices_are_the_catalogues(demo_ws: Path) -> None:
    doc = migrator("size", "--cloud", "aws,azure,gcp", "--format", "json", workspace=demo_ws).json()
    disks = _data_disks()
    assert doc["clouds"] == ["aws", "azure", "gcp"]
    assert {vm["vm"] for vm in doc["vms"]} == set(disks)
    assert len({vm["clouds"]["gcp"]["size"] for vm in doc["vms"]}) > 1  # not one size for all
    for cloud in PRICED:
        total = 0.0
        for vm in doc["vms"]:
            pick = vm["clouds"][cloud]
            assert (pick["size"], pick["monthly"]) == _expected_vm(vm, cloud, disks), (cloud, vm["vm"])
            assert pick["currency"] == "USD"
            total += pick["monthly"]
        totals = doc["cloud_totals"][cloud]
        assert totals["monthly"] == round(total, 2) and totals["priced"] and totals["no_fit"] == 0
        catalogue = _catalogue(cloud)
        assert totals["catalogue"]["as_of"] == catalogue["as_of"]
        assert totals["catalogue"]["region"] == catalogue["region"]
    # the stored Google choice is the one terraform-google writes (size_vm's sizing["gcp"])
    crm = next(vm for vm in doc["vms"] if vm["vm"] == "crm-db-01")
    assert crm["gcp"]["machine_type"] == crm["clouds"]["gcp"]["size"]
    assert crm["gcp"]["monthly_usd"] == crm["clouds"]["gcp"]["monthly"]
    assert crm["gcp"]["as_is_type"] == expected("gcp", crm["vcpu_now"], crm["memory_mb_now"], "windows", 0)[0]


def test_without_cloud_the_output_is_as_before(demo_ws: Path) -> None:
    doc = migrator("size", "--format", "json", workspace=demo_ws).json()
    assert "clouds" not in doc and "cloud_totals" not in doc
    table = migrator("size", workspace=demo_ws)
    assert table.code == 0 and "AWS type" in table.stdout and "Azure size" not in table.stdout


def test_csv_has_one_row_per_vm_and_columns_per_cloud(demo_ws: Path) -> None:
    result = migrator("size", "--cloud", "gcp,aws", "--format", "csv", workspace=demo_ws)
    assert result.code == 0, result.stderr
    rows = list(csv.reader(io.StringIO(result.stdout)))
    assert rows[0] == [
        "VM",
        "vCPU",
        "MiB",
        "GCP size",
        "GCP /month",
        "GCP licensing",
        "AWS size",
        "AWS /month",
        "AWS licensing",
        "Licensing",
        "Flags",
    ]
    disks = _data_disks()
    assert sorted(r[0] for r in rows[1:]) == sorted(disks)
    doc = migrator("size", "--format", "json", workspace=demo_ws).json()
    need = {vm["vm"]: vm for vm in doc["vms"]}
    for row in rows[1:]:
        vm = need[row[0]]
        assert (row[1], row[2]) == (str(vm["vcpu"]), str(vm["memory_mb"]))
        for cloud, (size_col, price_col) in {"gcp": (3, 4), "aws": (6, 7)}.items():
            size, monthly = _expected_vm(vm, cloud, disks)
            assert (row[size_col], row[price_col]) == (size, str(monthly)), (cloud, row)


def test_licensing_is_flagged_per_cloud_and_never_priced(demo_ws: Path) -> None:
    doc = migrator("size", "--cloud", "aws,azure,gcp", "--format", "json", workspace=demo_ws).json()
    by_vm = {vm["vm"]: vm for vm in doc["vms"]}
    crm = by_vm["crm-db-01"]  # Windows with SQL Server in its annotation
    assert crm["os_family"] == "windows"
    wording = {"aws": "Dedicated Hosts", "azure": "Azure Hybrid Benefit", "gcp": "sole-tenant"}
    for cloud, word in wording.items():
        flags = crm["clouds"][cloud]["flags"]
        windows = [f for f in flags if f.startswith("Windows:")]
        sql = [f for f in flags if f.startswith("SQL Server:")]
        assert len(windows) == 1 and word in windows[0] and "licence-included" in windows[0]
        assert len(sql) == 1 and "not priced" in sql[0]
    assert "Hybrid Benefit" in crm["clouds"]["azure"]["flags"][1]  # AHB for SQL Server too
    for vm in doc["vms"]:
        for cloud in PRICED:
            has_windows = any(f.startswith("Windows:") for f in vm["clouds"][cloud]["flags"])
            assert has_windows == (vm["os_family"] == "windows"), (vm["vm"], cloud)
    linux = by_vm["dns-01"]
    assert linux["os_family"] == "linux" and all(linux["clouds"][c]["flags"] == [] for c in PRICED)
    table = migrator("size", "--cloud", "azure", workspace=demo_ws).stdout
    assert "VM(s): Windows: price is licence-included; Azure Hybrid Benefit" in table


def test_openstack_needs_a_flavor_file_and_prices_only_what_it_carries(demo_ws: Path, tmp_path: Path) -> None:
    priced = tmp_path / "priced.yaml"
    priced.write_text(
        "source: test cloud\nas_of: '2026-12'\ncurrency: EUR\nflavors:\n"
        "  - {name: small, vcpus: 2, ram_mb: 4096, disk_gb: 0, hourly: 0.02}\n"
        "  - {name: fat, vcpus: 8, ram_mb: 65536, disk_gb: 0, hourly: 0.5}\n"
        "  - {name: big-cheap, vcpus: 16, ram_mb: 32768, disk_gb: 0, hourly: 0.1}\n",
        encoding="utf-8",
    )
    doc = migrator(
        "size", "--cloud", "openstack", "--flavors", str(priced), "--format", "json", workspace=demo_ws
    ).json()
    hourly = {"small": 0.02, "fat": 0.5, "big-cheap": 0.1}
    for vm in doc["vms"]:
        pick = vm["clouds"]["openstack"]
        if vm["vcpu"] <= 2 and vm["memory_mb"] <= 4096:
            want: str | None = "small"
        elif vm["memory_mb"] <= 32768:
            want = "big-cheap"
        else:
            want = "fat"
        assert pick["size"] == want, vm["vm"]
        assert pick["monthly"] == round(hourly[want] * 730, 2) and pick["currency"] == "EUR"
    assert doc["cloud_totals"]["openstack"]["currency"] == "EUR"
    assert doc["cloud_totals"]["openstack"]["catalogue"]["file"] == "priced.yaml"
    example = DATA / "openstack-flavors.example.yaml"
    unpriced = migrator("size", "--cloud", "aws,openstack", "--flavors", str(example), workspace=demo_ws)
    assert unpriced.code == 0, unpriced.stderr
    assert "not priced" in unpriced.stdout and "OpenStack openstack-flavors.example.yaml" in unpriced.stdout
    assert_one_line_error(migrator("size", "--cloud", "openstack", workspace=demo_ws), 2, "--flavors")
    assert_one_line_error(migrator("size", "--flavors", str(example), workspace=demo_ws), 2, "--cloud")


def test_an_unknown_cloud_is_one_line_and_exit_2(demo_ws: Path) -> None:
    result = migrator("size", "--cloud", "aws,oracle", workspace=demo_ws)
    assert_one_line_error(result, 2, "--cloud", "'oracle'", "aws, azure, gcp, openstack")
    assert_one_line_error(migrator("size", "--cloud", " , ", workspace=demo_ws), 2, "--cloud")


def test_each_wave_is_priced_per_cloud_with_the_cheapest_named(demo_ws: Path) -> None:
    plan = migrator("waves", "plan", "--format", "json", workspace=demo_ws).json()
    sized = {vm["vm"]: vm for vm in migrator("size", "--format", "json", workspace=demo_ws).json()["vms"]}
    disks = _data_disks()
    seen = set()
    for wave in plan["waves"]:
        costs = {
            cloud: round(sum(_expected_vm(sized[n], cloud, disks)[1] or 0 for n in wave["vms"]), 2)
            for cloud in PRICED
        }
        metrics = wave["metrics"]
        assert {c: metrics[f"{c}_monthly_usd"] for c in PRICED} == costs, wave["number"]
        cheapest = min(PRICED, key=lambda c: costs[c])
        assert metrics["cheapest_cloud"] == cheapest
        seen.add(cheapest)
    assert seen == {"gcp"}  # on the demo estate's list prices, e2 wins every wave
    total = {c: round(sum(w["metrics"][f"{c}_monthly_usd"] for w in plan["waves"]), 2) for c in PRICED}
    assert plan["cost"]["azure_monthly_usd"] == total["azure"]
    assert plan["cost"]["gcp_monthly_usd"] == total["gcp"]
    table = migrator("waves", "show", workspace=demo_ws)
    assert table.code == 0 and "Cheapest" in table.stdout and "Azure $/month" in table.stdout
