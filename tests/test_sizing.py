"""Right-sizing and pricing: the arithmetic, the floors, the catalog and its provenance."""

from __future__ import annotations

from typing import Any

import pytest

from migrator.errors import UsageError
from waves.sizing import SizingParameters, catalog, cheapest, size_vm, totals


def machine(**extra: Any) -> dict[str, Any]:
    perf = {
        "cpu_p50_pct": 10.0,
        "cpu_p95_pct": 40.0,
        "cpu_max_pct": 90.0,
        "mem_p50_pct": 20.0,
        "mem_p95_pct": 30.0,
        "mem_max_pct": 60.0,
        "samples": 288,
        "expected_samples": 288,
        "coverage": 1.0,
        "window_days": 1,
    }
    return {"name": "m", "num_cpu": 8, "memory_mb": 32768, "guest_id": "rhel8_64Guest", "perf": perf, **extra}


def test_p95_times_comfort() -> None:
    sized = size_vm(machine(), SizingParameters())
    # 8 vCPU x 40% x 1.3 = 4.16 -> 5; 32768 MiB x 30% x 1.3 = 12779.52 -> 12780
    assert (sized["vcpu"], sized["memory_mb"], sized["coverage"]) == (5, 12780, "high")
    assert sized["basis"] == "p95 x 1.3 over 1 day(s)"
    assert sized["aws"]["instance_type"] == "c6i.2xlarge"  # 8 vCPU, 16 GiB: the cheapest that fits
    assert sized["aws"]["as_is_type"] == "m6i.2xlarge"
    assert sized["kubevirt"] == {
        "cores": 5,
        "memory_guest": "12800Mi",
        "cpu_request": "5000m",
        "memory_request": "12800Mi",
    }
    peak = size_vm(machine(), SizingParameters(percentile=100, comfort=1.0))
    assert (peak["vcpu"], peak["memory_mb"]) == (8, 19661)


def test_floors_flags_and_windows_pricing() -> None:
    tiny = machine(
        perf={**machine()["perf"], "mem_p95_pct": 1.0, "coverage": 0.3},
        guest_id="windows2019srv_64Guest",
        annotation="Runs Microsoft SQL Server 2019",
    )
    sized = size_vm(tiny, SizingParameters())
    assert sized["memory_mb"] == 2048 and sized["coverage"] == "low"
    assert "memory raised to the windows floor of 2048 MiB" in sized["flags"]
    assert any(f.startswith("low coverage: 30%") for f in sized["flags"])
    assert any(f.startswith("SQL Server: licence not priced") for f in sized["flags"])
    win = next(i for i in catalog()["instances"] if i["type"] == sized["aws"]["instance_type"])
    assert sized["aws"]["monthly_usd"] == round(win["windows_hourly"] * 730, 2)
    busy = size_vm(machine(perf={**machine()["perf"], "cpu_p95_pct": 95.0}), SizingParameters())
    assert busy["vcpu"] == 10 and "CPU busy today: sized above the current vCPU count" in busy["flags"]


def test_catalog_has_provenance_and_consistent_windows_rates() -> None:
    data = catalog()
    assert data["region"] == "us-east-1" and data["as_of"] and "aws.amazon.com/ec2/pricing" in data["source"]
    for item in data["instances"]:
        assert item["windows_hourly"] == pytest.approx(item["linux_hourly"] + 0.046 * item["vcpu"])
    assert cheapest(1000, 1024, "linux") is None


def test_parameters_and_totals() -> None:
    with pytest.raises(UsageError):
        SizingParameters(percentile=90)
    with pytest.raises(UsageError):
        SizingParameters(comfort=0.5)
    sizes = [size_vm(machine(), SizingParameters()), size_vm(machine(perf=None), SizingParameters())]
    summary = totals(sizes)
    assert summary["sized_as_is"] == 1 and summary["vcpu"] == 13 and summary["vcpu_now"] == 16
