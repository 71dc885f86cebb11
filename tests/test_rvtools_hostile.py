"""RVTools workbooks built to hurt: huge or stale dimensions, zip bombs, DTDs, deep nesting, and
limits exceeded. Each must end in exit 0 with counted warnings or in one `error:` line (exit 2)
naming the file and the limit, with nothing stored."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

from migrator.errors import ExitCode
from tests.helpers import Result, assert_one_line_error, migrator
from tests.xlsx_raw import NS, sheet_xml, vinfo_rows, write_xlsx
from transpilers.registry import TARGETS

BILLION_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + "]>"
)
XXE = '<!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'


def _two_vms() -> list[tuple[int, list[object]]]:
    return vinfo_rows(("app-01", 2, 4096), ("db-01", 4, 8192))


def _nothing_stored(ws: Path) -> None:
    snaps = migrator("snapshots", "list", "--format", "json", workspace=ws).json()
    assert [s for s in snaps if s["status"] == "complete"] == []


def _refused(path: Path, ws: Path, *fragments: str, env: dict[str, str] | None = None) -> Result:
    result = migrator("import", "rvtools", str(path), workspace=ws, env=env)
    assert_one_line_error(result, ExitCode.USAGE, path.name, *fragments)
    _nothing_stored(ws)
    return result


def _vms(ws: Path) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = migrator("inventory", "list", "--format", "json", workspace=ws).json()
    return rows


def test_huge_dimension_and_one_far_away_cell_read_quickly(tmp_path: Path) -> None:
    rows = [*_two_vms(), (1_048_576, [None] * 16_383 + ["far away"])]
    path = write_xlsx(tmp_path / "huge-dimension.xlsx", {"vInfo": sheet_xml(rows, dimension="A1:XFD1048576")})
    assert path.stat().st_size < 8192
    result = migrator("import", "rvtools", str(path), workspace=tmp_path, timeout=60)
    assert result.code == 0, result.stderr
    assert sorted(vm["name"] for vm in _vms(tmp_path)) == ["app-01", "db-01"]
    snap = migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json()[0]
    assert any(
        "1 row(s) of sheet vInfo without a VM name skipped" in w and "row 1048576" in w
        for w in snap["warnings"]
    )


def test_rows_beyond_a_stale_dimension_are_read_and_nameless_ones_counted(tmp_path: Path) -> None:
    rows = _two_vms()
    rows += [(n, [None, "poweredOn", 1, 1024]) for n in range(4, 20_004)]  # cannot be VMs: no name
    rows.append((20_004, ["late-01", "poweredOff", 1, 2048, "vm-20004"]))
    path = write_xlsx(tmp_path / "stale.xlsx", {"vInfo": sheet_xml(rows, dimension="A1:E3")})
    result = migrator("import", "rvtools", str(path), workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert sorted(vm["name"] for vm in _vms(tmp_path)) == ["app-01", "db-01", "late-01"]
    snap = migrator("snapshots", "list", "--format", "json", workspace=tmp_path).json()[0]
    skipped = [w for w in snap["warnings"] if "without a VM name skipped" in w]
    assert len(skipped) == 1 and skipped[0].startswith("20000 row(s)") and "row 4," in skipped[0]
    # the same workbook under a lower row limit is refused, naming the limit and its variable
    _refused(
        path,
        tmp_path / "low",
        "sheet vInfo exceeds the limit of 1,000 rows",
        "MIGRATOR_LIMIT_ROWS",
        env={"MIGRATOR_LIMIT_ROWS": "1000"},
    )


def _bomb() -> Iterator[bytes]:
    yield f'<worksheet {NS}><sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>'.encode()
    chunk = b"A" * (16 << 20)
    for _ in range(96):  # 1.5 GiB in one cell
        yield chunk
    yield b"</t></is></c></row></sheetData></worksheet>"


def test_zip_bomb_cell_is_refused_by_its_declared_size(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "bomb.xlsx", {"vInfo": sheet_xml(_two_vms()), "vDisk": _bomb()})
    assert path.stat().st_size < 16 * 1024**2
    _refused(path, tmp_path, "part xl/worksheets/sheet2.xml (declared size) exceeds the limit of 1,024 MiB")


def test_a_part_larger_than_it_declares_is_never_read_past_its_declared_size(tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "liar.xlsx", {"vInfo": sheet_xml(_two_vms())})
    data = bytearray(path.read_bytes())
    name = b"xl/worksheets/sheet1.xml"
    at = data.find(b"PK\x01\x02")
    while at != -1 and data[at + 46 : at + 46 + len(name)] != name:
        at = data.find(b"PK\x01\x02", at + 4)
    assert at != -1
    struct.pack_into("<I", data, at + 24, 64)  # the central directory now claims 64 bytes
    path.write_bytes(bytes(data))
    _refused(path, tmp_path, "the workbook is corrupt")


def test_long_cell_text_is_refused_at_the_string_limit(tmp_path: Path) -> None:
    rows = [*_two_vms(), (4, ["x" * 70_000, "poweredOn", 1, 1024])]
    path = write_xlsx(tmp_path / "long.xlsx", {"vInfo": sheet_xml(rows)})
    _refused(path, tmp_path, "sheet vInfo row 4: a cell's text exceeds the limit of 65,536 characters")
    ok = migrator(
        "import",
        "rvtools",
        str(path),
        workspace=tmp_path / "raised",
        env={"MIGRATOR_LIMIT_STRING_CHARS": "80000"},
    )
    assert ok.code == 0, ok.stderr


def test_billion_laughs_and_xxe_are_bad_input(tmp_path: Path) -> None:
    for label, prolog in (("laughs", BILLION_LAUGHS), ("xxe", XXE)):
        rows = [*_two_vms(), (4, ["&lol9;" if label == "laughs" else "&xxe;", "poweredOn", 1, 1024])]
        sheet = sheet_xml(rows, prolog=prolog).replace("&amp;lol9;", "&lol9;").replace("&amp;xxe;", "&xxe;")
        path = write_xlsx(tmp_path / f"{label}.xlsx", {"vInfo": sheet})
        _refused(path, tmp_path / label, "part xl/worksheets/sheet1.xml has a DTD")
    wb = write_xlsx(
        tmp_path / "wb-laughs.xlsx", {"vInfo": sheet_xml(_two_vms())}, workbook_prolog=BILLION_LAUGHS
    )
    _refused(wb, tmp_path / "wb", "part xl/workbook.xml has a DTD")


def test_deep_nesting_and_far_columns_are_refused(tmp_path: Path) -> None:
    deep = sheet_xml(_two_vms()).replace("<sheetData>", "<x>" * 200 + "</x>" * 200 + "<sheetData>")
    _refused(
        write_xlsx(tmp_path / "deep.xlsx", {"vInfo": deep}), tmp_path / "d", "exceeds the limit of 64 levels"
    )
    wide = sheet_xml(_two_vms()).replace("</row>", '<c r="XFE2"><v>1</v></c></row>', 2)
    _refused(
        write_xlsx(tmp_path / "wide.xlsx", {"vInfo": wide}),
        tmp_path / "w",
        "column 16385 exceeds the limit of 16,384 columns",
    )
    malformed = sheet_xml(_two_vms()).replace("</sheetData>", "<sheetData>")
    _refused(
        write_xlsx(tmp_path / "bad.xlsx", {"vInfo": malformed}), tmp_path / "m", "is not well-formed XML"
    )
    bad_limit = migrator(
        "import",
        "rvtools",
        str(tmp_path / "bad.xlsx"),
        workspace=tmp_path,
        env={"MIGRATOR_LIMIT_ROWS": "many"},
    )
    assert_one_line_error(
        bad_limit, ExitCode.USAGE, "MIGRATOR_LIMIT_ROWS='many': expected a positive whole number"
    )


# -- real-world shapes (issue 9): empty numeric cells, no vDisk sheet ---------------------------------
def test_empty_size_cells_are_unknown_and_planning_copes(tmp_path: Path) -> None:
    headers = ["Provisioned MiB", "In Use MiB", "OS according to the configuration file"]
    rows = vinfo_rows(("web-01", 2, 4096), ("blank-01", None, None), ("half-01", 4, None), extra=headers)
    rows[1][1].extend([40960, 20480, "Red Hat Enterprise Linux 8 (64-bit)"])
    rows[2][1].extend([102400, None, "Microsoft Windows Server 2019 (64-bit)"])
    rows[3][1].extend([None, None, "Ubuntu Linux (64-bit)"])
    path = write_xlsx(tmp_path / "empty-cells.xlsx", {"vInfo": sheet_xml(rows)})
    result = migrator("import", "rvtools", str(path), workspace=tmp_path)
    assert result.code == 0, result.stderr
    doc = migrator("inventory", "export", "--format", "json", workspace=tmp_path).json()
    vms = {vm["name"]: vm for vm in doc["vms"]}
    assert (vms["blank-01"]["num_cpu"], vms["blank-01"]["memory_mb"]) == (None, None)
    assert (vms["half-01"]["num_cpu"], vms["half-01"]["memory_mb"]) == (4, None)
    warnings = doc["warnings"]
    empty = next(w for w in warnings if "empty numeric cell(s) in sheet vInfo" in w)
    assert empty.startswith("3 ") and "row 3 CPUs, row 3 Memory, row 4 Memory" in empty
    # no vDisk sheet: one synthetic disk of vInfo's provisioned storage, in-use as committed
    assert vms["web-01"]["disks"][0]["capacity_gb"] == 40.0 and vms["web-01"]["disks"][0]["synthetic"] is True
    assert vms["web-01"]["committed_gb"] == 20.0
    assert vms["blank-01"]["disks"][0]["capacity_gb"] == 100.0 and vms["half-01"]["disks"] == []
    assert any("2 VM(s) got one synthetic disk" in w for w in warnings)

    sized = migrator("size", "--format", "json", workspace=tmp_path).json()
    by_vm = {s["vm"]: s for s in sized["vms"]}
    blank = by_vm["blank-01"]
    assert blank["vcpu_now"] is None and blank["memory_mb_now"] is None
    assert blank["unknown"] == ["num_cpu", "memory_mb"] and blank["memory_mb"] == 2048  # windows floor
    assert any("vCPU count unknown in the inventory" in f for f in blank["flags"])
    assert by_vm["web-01"]["unknown"] == [] and by_vm["web-01"]["vcpu_now"] == 2
    assert sized["totals"]["size_unknown"] == 2 and sized["totals"]["vcpu_now"] == 6

    planned = migrator("waves", "plan", "--format", "json", workspace=tmp_path)
    assert planned.code in (0, 7), planned.stderr
    assert "internal error" not in planned.stderr
    assert "size unknown (vCPU count and memory empty in the inventory)" in planned.stdout
    for target in TARGETS:  # every registered target
        out = tmp_path / target
        made = migrator("plan", "--target", target, "--out", str(out), workspace=tmp_path)
        assert made.code in (0, 7, 8), made.stderr
        assert "internal error" not in made.stderr and any(out.rglob("*"))
