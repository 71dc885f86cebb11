"""`--limit NAME=VALUE` on `import rvtools`, `import inventory`, `import flows` and `import cmdb`:
a file over a default limit is refused (exit 2, nothing stored) and accepted once the option
raises that limit; the option wins over MIGRATOR_LIMIT_*; a bad option is one exit-2 line
naming every limit. Files are built here; the CLI runs as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from migrator.errors import ExitCode
from tests.helpers import Result, assert_one_line_error, migrator
from tests.xlsx_raw import sheet_xml, vinfo_rows, write_xlsx

ROOT = Path(__file__).resolve().parents[1]
VALID = "columns, depth, expanded-mb, expanded-total-mb, file-mb, rows, rows-csv, string-chars"
LONG = 70_000  # characters: over the default string limit (65,536)


def _snapshots(ws: Path) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = migrator("snapshots", "list", "--format", "json", workspace=ws).json()
    return found


def _warnings(result: Result) -> list[str]:
    return [line for line in result.stderr.splitlines() if line.startswith("warning: ")]


def test_rvtools_long_cell_refused_by_default_and_accepted_with_a_raised_limit(tmp_path: Path) -> None:
    rows = [*vinfo_rows(("app-01", 2, 4096), ("db-01", 2.5, 8192.5)), (4, ["x" * LONG, "poweredOn", 1, 1024])]
    path = write_xlsx(tmp_path / "long.xlsx", {"vInfo": sheet_xml(rows)})
    refused = migrator("import", "rvtools", str(path), workspace=tmp_path / "a")
    assert_one_line_error(
        refused,
        ExitCode.USAGE,
        "long.xlsx: sheet vInfo row 4: a cell's text exceeds the limit of 65,536 characters; "
        "raise it with --limit string-chars=N or MIGRATOR_LIMIT_STRING_CHARS (docs/limits.md)",
    )
    assert [s for s in _snapshots(tmp_path / "a") if s["status"] == "complete"] == []
    accepted = migrator(
        "import", "rvtools", str(path), "--limit", "string-chars=80000", workspace=tmp_path / "b"
    )
    assert accepted.code == 0, accepted.stderr
    # what the reader changed is said, not hidden: the cut text and the fractional sizes
    changed = [
        "warning: 2 fractional value(s) in sheet vInfo for a whole number stored as unknown (null): "
        "row 3 CPUs = 2.5, row 3 Memory = 8192.5",
        "warning: 1 cell(s) of sheet vInfo longer than 65,536 characters cut there: row 4 column 1",
    ]
    assert _warnings(accepted)[-2:] == changed
    (snapshot,) = _snapshots(tmp_path / "b")
    assert (snapshot["status"], snapshot["vms"]) == ("complete", 3)
    assert [f"warning: {w}" for w in snapshot["warnings"][-2:]] == changed
    vms = migrator("inventory", "list", "--format", "json", workspace=tmp_path / "b").json()
    by_size = sorted((len(vm["name"]), vm["num_cpu"], vm["memory_mb"]) for vm in vms)
    assert by_size == [(5, None, None), (6, 2, 4096), (65_536, 1, 1024)]


def test_inventory_nesting_refused_by_default_and_accepted_with_a_raised_depth(tmp_path: Path) -> None:
    doc = json.loads((ROOT / "fixtures" / "inventories" / "demo.json").read_text(encoding="utf-8"))
    nested: Any = "bottom"
    for _ in range(70):
        nested = [nested]
    doc["vms"][0]["x_vendor_notes"] = nested  # fields the contract does not know are kept
    path = tmp_path / "deep.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    refused = migrator("import", "inventory", str(path), workspace=tmp_path / "a")
    assert_one_line_error(
        refused,
        ExitCode.USAGE,
        "deep.json: JSON nesting exceeds the limit of 64 levels; raise it with --limit depth=N "
        "or MIGRATOR_LIMIT_DEPTH",
    )
    assert _snapshots(tmp_path / "a") == []
    accepted = migrator("import", "inventory", str(path), "--limit", "depth=100", workspace=tmp_path / "b")
    assert accepted.code == 0, accepted.stderr
    assert [(s["status"], s["vms"]) for s in _snapshots(tmp_path / "b")] == [("complete", len(doc["vms"]))]


def test_flow_csv_long_field_and_rows_follow_the_limit_option(tmp_path: Path) -> None:
    path = tmp_path / "notes.csv"
    path.write_text(
        "src_ip,dst_ip,dst_port,protocol,note\n"
        + "10.0.0.1,10.0.0.2,443,tcp,short\n"
        + f"10.0.0.1,10.0.0.3,443,tcp,{'n' * LONG}\n"
        + "10.0.0.1,10.0.0.4,443,tcp,short\n"
    )
    refused = migrator("import", "flows", str(path), workspace=tmp_path)
    assert_one_line_error(
        refused,
        ExitCode.USAGE,
        "notes.csv: line 3: a field exceeds the limit of 65,536 characters; "
        "raise it with --limit string-chars=N or MIGRATOR_LIMIT_STRING_CHARS",
    )
    assert migrator("flows", "list", "--format", "json", workspace=tmp_path).json() == []
    few_rows = migrator(
        "import",
        "flows",
        str(path),
        "--limit",
        "string-chars=80000",
        "--limit",
        "rows-csv=2",
        workspace=tmp_path,
    )
    assert_one_line_error(
        few_rows,
        ExitCode.USAGE,
        "notes.csv: the file exceeds the limit of 2 rows; raise it with --limit rows-csv=N",
    )
    # the option wins over the variable, which alone would refuse the file
    accepted = migrator(
        "import",
        "flows",
        str(path),
        "--limit",
        "string-chars=80000",
        workspace=tmp_path,
        env={"MIGRATOR_LIMIT_STRING_CHARS": "100"},
    )
    assert accepted.code == 0, accepted.stderr
    assert accepted.stdout.strip() == "flow set 1: 3 aggregated flow(s) from notes.csv"
    listed = migrator("flows", "list", "--format", "json", workspace=tmp_path).json()
    assert [(s["origin"], s["records"], s["malformed"], s["clamped"]) for s in listed] == [
        ("notes.csv", 3, 0, 0)
    ]


def test_cmdb_rows_follow_the_limit_option(tmp_path: Path) -> None:
    demo = ROOT / "fixtures" / "cmdb" / "demo-cmdb.csv"
    refused = migrator("import", "cmdb", str(demo), "--limit", "rows-csv=2", workspace=tmp_path)
    assert_one_line_error(
        refused, ExitCode.USAGE, "demo-cmdb.csv: rows exceeds the limit of 2 rows", "--limit rows-csv=N"
    )
    accepted = migrator(
        "import", "cmdb", str(demo), "--limit", "rows-csv=1000", "--format", "json", workspace=tmp_path
    )
    assert accepted.code == 0, accepted.stderr
    assert accepted.json()["import_id"] == 1


def test_a_bad_limit_option_is_one_line_naming_every_limit(tmp_path: Path) -> None:
    xlsx = write_xlsx(tmp_path / "ok.xlsx", {"vInfo": sheet_xml(vinfo_rows(("app-01", 2, 4096)))})
    flows = tmp_path / "ok.csv"
    flows.write_text("src_ip,dst_ip,dst_port,protocol\n10.0.0.1,10.0.0.2,443,tcp\n")
    inventory = ROOT / "fixtures" / "inventories" / "demo.json"
    unknown = ("cells=9", "--limit 'cells=9': unknown limit; use one of " + VALID)
    bad_values = [
        ("rows=many", "--limit 'rows=many': expected a positive whole number; the limits are " + VALID),
        ("depth=0", "--limit 'depth=0': expected a positive whole number; the limits are " + VALID),
        ("depth", "--limit 'depth': expected a positive whole number; the limits are " + VALID),
    ]
    commands = (("rvtools", xlsx), ("inventory", inventory), ("flows", flows))
    for (command, path), bad_value in zip(commands, bad_values, strict=True):
        for spec, message in (unknown, bad_value):
            result = migrator("import", command, str(path), "--limit", spec, workspace=tmp_path)
            assert_one_line_error(result, ExitCode.USAGE, message)
    assert _snapshots(tmp_path) == []
    assert migrator("flows", "list", "--format", "json", workspace=tmp_path).json() == []
    # validate's --limit goes through the same parsing, with its own limits
    bad = migrator("validate", str(tmp_path), "--limit", "size=1")
    assert_one_line_error(
        bad,
        ExitCode.USAGE,
        "--limit 'size=1': unknown limit; use one of depth, file-size, files, string-length, total-size, "
        "yaml-aliases, yaml-nodes",
    )
