"""`migrator import inventory` on hostile documents: every wrong type or absurd value deep inside is
one `error:` line (exit 2) naming where, before anything is stored."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from migrator.errors import ExitCode
from tests.helpers import assert_one_line_error, migrator

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "inventories" / "demo.json"


def _demo() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(DEMO.read_text(encoding="utf-8"))
    return doc


def _refused(ws: Path, name: str, text: str, *fragments: str) -> None:
    path = ws / name
    path.write_text(text, encoding="utf-8")
    assert_one_line_error(
        migrator("import", "inventory", str(path), workspace=ws), ExitCode.USAGE, *fragments
    )


def test_wrong_types_and_absurd_values_deep_inside_store_nothing(tmp_path: Path) -> None:
    def patched(change: Any) -> str:
        doc = copy.deepcopy(base)
        change(doc)
        return json.dumps(doc)

    base = _demo()
    cases = {
        "capacity": (
            lambda d: d["vms"][0]["disks"][0].update(capacity_gb="huge"),
            "at vms/0/disks/0/capacity_gb",
        ),
        "nic-ips": (lambda d: d["vms"][1]["nics"][0].update(ip_addresses=5), "at vms/1/nics/0/ip_addresses"),
        "memory": (lambda d: d["vms"][2].update(memory_mb=10**30), "at vms/2/memory_mb"),
        "vcpu": (lambda d: d["vms"][2].update(num_cpu=769), "at vms/2/num_cpu"),
        "disk-62tb": (lambda d: d["vms"][0]["disks"][0].update(capacity_gb=62 * 1024 + 1), "capacity_gb"),
        "host": (lambda d: d["hosts"][0].update(memory_gb="lots"), "at hosts/0/memory_gb"),
        "rule": (
            lambda d: d["clusters"][0].update(drs_rules=[{"vms": "a,b"}]),
            "at clusters/0/drs_rules/0/vms",
        ),
        "perf": (lambda d: d["vms"][3].update(perf={"coverage": 7}), "at vms/3/perf/coverage"),
    }
    for name, (change, where) in cases.items():
        _refused(tmp_path, f"{name}.json", patched(change), where)
    text = json.dumps(base).replace('"memory_mb": 2048', '"memory_mb": 1e400', 1)
    _refused(tmp_path, "inf.json", text, "memory_mb")
    _refused(
        tmp_path, "nan.json", json.dumps(base).replace('"memory_mb": 2048', '"memory_mb": NaN', 1), "NaN"
    )
    _refused(tmp_path, "digits.json", '{"schema_version": 1, "vms": [], "x": ' + "9" * 5000 + "}", "not JSON")
    assert migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json() == []
    listed = migrator("inventory", "list", workspace=tmp_path)
    assert listed.code == ExitCode.NOT_FOUND and "internal error" not in listed.stderr
    assert migrator("import", "inventory", str(DEMO), workspace=tmp_path).code == 0


def test_deep_nesting_is_bad_input_not_a_crash(tmp_path: Path) -> None:
    deep = '{"schema_version": 1, "vms": [], "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    _refused(tmp_path, "deep.json", deep, "deep.json: JSON nesting exceeds the limit of 64 levels")
    medium = '{"schema_version": 1, "vms": [], "x": ' + "[" * 80 + "]" * 80 + "}"
    _refused(tmp_path, "medium.json", medium, "exceeds the limit of 64 levels", "MIGRATOR_LIMIT_DEPTH")
    path = tmp_path / "medium.json"
    raised = migrator(
        "import", "inventory", str(path), workspace=tmp_path, env={"MIGRATOR_LIMIT_DEPTH": "100"}
    )
    assert raised.code == 0, raised.stderr


def test_file_size_limit(tmp_path: Path) -> None:
    env = {"MIGRATOR_LIMIT_FILE_MB": "1"}
    path = tmp_path / "big.json"
    path.write_text(
        json.dumps({"schema_version": 1, "vms": [], "pad": "x" * (2 * 1024**2)}), encoding="utf-8"
    )
    result = migrator("import", "inventory", str(path), workspace=tmp_path, env=env)
    assert_one_line_error(
        result, ExitCode.USAGE, "big.json: file size exceeds the limit of 1 MiB", "MIGRATOR_LIMIT_FILE_MB"
    )
