"""`scripts/refresh_catalogue.py`: a shipped size catalogue's prices from each cloud's published
price format (fixtures/prices/: small files in the Azure Retail Prices API, Cloud Billing Catalog
API and AWS Price List Bulk API shapes, with decoys each cloud's answer also holds: Spot, Low
Priority, DevTest, reservations, other regions, custom types, dedicated tenancy, SQL Server
images, bring-your-own-licence). Run as a user runs it, as a subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers import Result, assert_one_line_error

ROOT = Path(__file__).resolve().parents[1]
PRICES = ROOT / "fixtures" / "prices"
SHIPPED = {
    "aws": "aws-ec2-us-east-1.json",
    "azure": "azure-vm-eastus.json",
    "gcp": "gcp-compute-us-central1.json",
}


def refresh(cloud: str, out: Path, *files: str, as_of: str = "2027-01-15") -> Result:
    args = ["--cloud", cloud, "--out", str(out), "--as-of", as_of]
    for name in files:
        args += ["--from", str(PRICES / name)]
    proc = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "refresh_catalogue.py"), *args],
        capture_output=True, text=True, cwd=ROOT, check=False,
    )  # fmt: skip
    return Result(proc.returncode, proc.stdout, proc.stderr)


def refreshed(cloud: str, tmp_path: Path, fixture: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    out = tmp_path / f"{cloud}.json"
    result = refresh(cloud, out, fixture)
    assert result.code == 0, result.stderr
    shipped = json.loads((ROOT / "waves" / "data" / SHIPPED[cloud]).read_text(encoding="utf-8"))
    return json.loads(out.read_text(encoding="utf-8")), shipped, result.stderr


def by_type(catalogue: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {i["type"]: i for i in catalogue["instances"]}


def assert_sizes_kept(new: dict[str, Any], shipped: dict[str, Any]) -> None:
    """Same sizes in the same order, same specifications; only prices, as_of and source change."""
    specs = ("type", "family", "vcpu", "memory_gib", "max_data_disks")
    assert [{k: i.get(k) for k in specs} for i in new["instances"]] == [
        {k: i.get(k) for k in specs} for i in shipped["instances"]
    ]
    same = {k: v for k, v in shipped.items() if k not in ("as_of", "source", "instances")}
    assert {k: v for k, v in new.items() if k not in ("as_of", "source", "instances")} == same
    assert new["as_of"] == "2027-01-15"


def test_azure_retail_prices_pay_as_you_go_linux_and_windows(tmp_path: Path) -> None:
    new, shipped, warnings = refreshed("azure", tmp_path, "azure-retail-prices.json")
    assert_sizes_kept(new, shipped)
    sizes = by_type(new)
    # the Consumption rows of eastus; not Spot 0.0201, Low Priority 0.0202, DevTest 0.077,
    # the 1-year reservation 503, westeurope's 0.115
    assert (sizes["Standard_D2s_v5"]["linux_hourly"], sizes["Standard_D2s_v5"]["windows_hourly"]) == (
        0.101,
        0.193,
    )
    assert (sizes["Standard_D4s_v5"]["linux_hourly"], sizes["Standard_D4s_v5"]["windows_hourly"]) == (
        0.202,
        None,
    )
    assert sizes["Standard_E2s_v5"]["linux_hourly"] is None  # not in the file: no stale price
    assert "warning: Standard_D4s_v5: no windows price in the file; kept none" in warnings
    assert "warning: Standard_E2s_v5: no linux price in the file; kept none" in warnings
    assert "Standard_B2s" not in sizes  # the file's other sizes are not added
    assert "Azure Retail Prices API" in new["source"] and "azure-retail-prices.json" in new["source"]


def test_google_billing_catalog_core_and_ram_rates_price_each_machine_type(tmp_path: Path) -> None:
    new, shipped, warnings = refreshed("gcp", tmp_path, "gcp-billing-catalog-skus.json")
    assert_sizes_kept(new, shipped)
    sizes = by_type(new)
    # E2 in us-central1: 0.022 per vCPU-hour + 0.00295 per GiB-hour (not Spot 0.0065, the
    # commitment 0.0137, EMEA's 0.0241); Windows keeps the shipped licence charge per type
    assert sizes["e2-standard-2"]["linux_hourly"] == 0.0676  # 2 x 0.022 + 8 x 0.00295
    assert sizes["e2-standard-2"]["windows_hourly"] == 0.1596  # + 0.092 (2 vCPU x 0.046)
    assert sizes["e2-highmem-8"]["linux_hourly"] == 0.3648  # 8 x 0.022 + 64 x 0.00295
    assert sizes["c3-standard-4"]["linux_hourly"] == 4.064  # units "1" + 16 x 0.004
    assert sizes["c3-standard-4"]["windows_hourly"] == 4.248
    # N2 has a core rate (the custom-type one is ignored) but no RAM rate: no price
    assert sizes["n2-standard-2"]["linux_hourly"] is None and sizes["n4-standard-2"]["windows_hourly"] is None
    assert "warning: n2-standard-2: no linux price in the file; kept none" in warnings
    assert "Cloud Billing Catalog API" in new["source"]


def test_aws_price_list_offer_file_shared_tenancy_on_demand(tmp_path: Path) -> None:
    new, shipped, warnings = refreshed("aws", tmp_path, "aws-price-list-ec2.json")
    assert_sizes_kept(new, shipped)
    sizes = by_type(new)
    # not dedicated 0.11, an unused capacity reservation 0, SQL Server 0.31, BYOL Windows
    assert (sizes["m6i.large"]["linux_hourly"], sizes["m6i.large"]["windows_hourly"]) == (0.0999, 0.1919)
    assert (sizes["c6i.large"]["linux_hourly"], sizes["c6i.large"]["windows_hourly"]) == (0.0855, None)
    assert "warning: c6i.large: no windows price in the file; kept none" in warnings
    assert "AWS Price List Bulk API" in new["source"] and "aws-price-list-ec2.json" in new["source"]


@pytest.mark.parametrize(
    ("cloud", "fixture", "fragment"),
    [
        ("azure", "malformed-truncated.json", "malformed-truncated.json: not JSON (line 1"),
        ("azure", "azure-bad-price.json", "Items[0].retailPrice: not a price: 'cheap'"),
        ("gcp", "azure-retail-prices.json", "azure-retail-prices.json: skus: expected a JSON array"),
        ("aws", "gcp-billing-catalog-skus.json", "products: expected a JSON object"),
    ],
)
def test_a_file_not_in_the_clouds_format_is_one_line_and_exit_2(
    tmp_path: Path, cloud: str, fixture: str, fragment: str
) -> None:
    out = tmp_path / "out.json"
    assert_one_line_error(refresh(cloud, out, fixture), 2, fragment)
    assert not out.exists()


def test_a_missing_file_and_a_bad_date_are_one_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "out.json"
    assert_one_line_error(refresh("aws", out, "no-such-file.json"), 2, "no-such-file.json: cannot be read")
    assert_one_line_error(
        refresh("aws", out, "aws-price-list-ec2.json", as_of="Jan 2027"), 2, "--as-of 'Jan 2027'"
    )
    assert not out.exists()
