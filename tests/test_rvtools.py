"""RVTools import: three header dialects, exact values, and malformed files rejected whole."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from migrator.errors import ExitCode
from tests.helpers import assert_one_line_error, migrator
from tests.rvtools_factory import DIALECTS, write_all

SHIPPED = Path(__file__).resolve().parents[1] / "fixtures" / "rvtools"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return write_all(tmp_path_factory.mktemp("rvtools"))


def _import(path: Path, ws: Path) -> dict[str, Any]:
    result = migrator("import", "rvtools", str(path), workspace=ws)
    assert result.code == 0, result.stderr
    exported = migrator("inventory", "export", "--format", "json", workspace=ws)
    return exported.json()


def test_shipped_fixtures_match_the_generator(files: dict[str, Path]) -> None:
    for key, generated in files.items():
        shipped = SHIPPED / generated.name
        assert shipped.exists(), f"{shipped} missing: run python -m tests.rvtools_factory fixtures/rvtools"
        if generated.read_bytes()[:2] != b"PK" or key == "truncated":
            continue

        def cells(p: Path) -> dict[str, list[tuple[Any, ...]]]:
            wb = load_workbook(p, read_only=True)
            return {name: list(wb[name].iter_rows(values_only=True)) for name in wb.sheetnames}

        assert cells(shipped) == cells(generated), key


def test_display_dialect_exact_values(files: dict[str, Path], tmp_path: Path) -> None:
    doc = _import(files["display"], tmp_path)
    assert doc["snapshot"]["source"] == "rvtools" and doc["snapshot"]["server"] == "rvtools-display.xlsx"
    web = next(vm for vm in doc["vms"] if vm["name"] == "web-01")
    assert (web["moref"], web["num_cpu"], web["memory_mb"], web["power_state"]) == (
        "vm-101",
        2,
        4096,
        "poweredOn",
    )
    assert web["custom_fields"] == {"app": "shop", "env": "prod"}
    assert web["firmware"] == "efi" and web["cbt_enabled"] is True and web["hw_version"] == "vmx-19"
    assert web["hostname"] == "web-01.corp.example" and web["ip_addresses"] == ["10.1.0.11"]
    assert web["disks"] == [
        {
            "label": "Hard disk 1",
            "capacity_gb": 40.0,
            "thin": True,
            "datastore": "ds-prod-01",
            "file": "[ds-prod-01] web-01/web-01.vmdk",
            "disk_mode": "persistent",
            "independent": False,
            "rdm": None,
            "sharing": "sharingNone",
            "controller": None,
            "unit_number": None,
        }
    ]
    assert web["nics"][0]["mac"] == "00:50:56:aa:bb:01" and web["nics"][0]["network"] == "web-vlan110"
    assert web["nics"][0]["ip_addresses"] == ["10.1.0.11", "fe80::1"]
    assert web["memory_hot_add"] is True
    assert web["partitions"] == [{"disk": "/", "capacity_mb": 40000.0, "free_mb": 12000.0}]
    db = next(vm for vm in doc["vms"] if vm["name"] == "db 01 (Ünïcode)")
    assert db["annotation"] == "line1\nline2 ${x}"
    assert db["disks"][0]["independent"] is True and db["disks"][0]["sharing"] == "sharingMultiWriter"
    assert db["disks"][0]["capacity_gb"] == 100.0
    assert db["ip_addresses"] == [] and db["perf"] is None
    assert sorted(n["name"] for n in doc["networks"]) == ["db-vlan130", "web-vlan110"]


@pytest.mark.parametrize("dialect", [d for d in DIALECTS if d != "display"])
def test_other_dialects_read_the_same(files: dict[str, Path], tmp_path: Path, dialect: str) -> None:
    reference = _import(files["display"], tmp_path / "a")
    other = _import(files[dialect], tmp_path / "b")
    assert other["vms"] == reference["vms"]
    assert other["networks"] == reference["networks"]


@pytest.mark.parametrize(
    ("key", "fragments"),
    [
        ("not-xlsx", ["malformed-not-xlsx.xlsx: not a readable xlsx workbook"]),
        ("truncated", ["malformed-truncated.xlsx: not a readable xlsx workbook"]),
        ("missing-vinfo", ["sheet vInfo is missing"]),
        ("missing-column", ["sheet vInfo lacks column(s) CPUs"]),
        ("bad-number", ["sheet vInfo row 2, column CPUs: 'four' is not a number"]),
        ("orphan-disk", ["sheet vDisk row 2 names VM 'ghost', absent from vInfo"]),
    ],
)
def test_malformed_files_store_nothing(
    files: dict[str, Path], tmp_path: Path, key: str, fragments: list[str]
) -> None:
    good = migrator("import", "rvtools", str(files["display"]), workspace=tmp_path)
    assert good.code == 0
    before = migrator("inventory", "export", "--format", "json", workspace=tmp_path).json()
    result = migrator("import", "rvtools", str(files[key]), workspace=tmp_path)
    assert_one_line_error(result, ExitCode.USAGE, *fragments)
    snaps = migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json()
    assert len(snaps) == 1 and snaps[0]["status"] == "complete"
    assert migrator("inventory", "export", "--format", "json", workspace=tmp_path).json() == before


def test_missing_file(tmp_path: Path) -> None:
    result = migrator("import", "rvtools", str(tmp_path / "nope.xlsx"), workspace=tmp_path)
    assert_one_line_error(result, ExitCode.USAGE, "nope.xlsx: no such file")
