"""`make bench` (benchmarks/report.py) measures code generation at 1,000 VMs once per registered
target, from the registry (issue 26: each under 20 s), in quick and full runs alike."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from transpilers.registry import TARGETS

ROOT = Path(__file__).resolve().parents[1]


def _report() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_report", ROOT / "benchmarks" / "report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("quick", [True, False])
def test_one_code_generation_row_per_registered_target_at_1000_vms(quick: bool) -> None:
    runs = _report().runs(quick)
    per_target = [argv for name, argv in runs if argv[0] == "plan.py" and "--vms" not in argv]
    assert per_target == [["plan.py", "--target", t] for t in TARGETS]  # plan.py's default: 1,000 VMs
    names = [name for name, argv in runs if argv in per_target]
    assert names == [f"code generation {t}" for t in TARGETS]
