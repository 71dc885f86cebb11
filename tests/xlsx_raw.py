"""Hand-written xlsx parts, for workbooks no spreadsheet program would write (hostile or broken).

openpyxl cannot write a stale or huge `<dimension>`, a DTD or a 1.5 GB cell, so these tests
assemble the zip themselves: one inline-string/number cell per value, rows as given.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path
from xml.sax.saxutils import escape

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    "</Types>"
)
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
VINFO_HEADERS = ["VM", "Powerstate", "CPUs", "Memory", "VM ID"]


def column(index: int) -> str:
    """0 -> A, 16383 -> XFD."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def cell(ref: str, value: object) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f'<c r="{ref}"><v>{value}</v></c>'
    return f'<c r="{ref}" t="inlineStr"><is><t>{escape(str(value))}</t></is></c>'


def rows_xml(rows: Iterable[tuple[int, list[object]]]) -> Iterator[str]:
    for number, values in rows:
        cells = "".join(cell(f"{column(i)}{number}", v) for i, v in enumerate(values) if v not in (None, ""))
        yield f'<row r="{number}">{cells}</row>'


def sheet_xml(
    rows: Iterable[tuple[int, list[object]]], dimension: str | None = None, prolog: str = ""
) -> str:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    body = "".join(rows_xml(rows))
    head = f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<worksheet {NS}>{dim}'
    return f"{head}<sheetData>{body}</sheetData></worksheet>"


def write_xlsx(path: Path, sheets: dict[str, str | Iterable[bytes]], workbook_prolog: str = "") -> Path:
    """A workbook with the given sheet XML documents (text, or chunks streamed in), in order."""
    entries = "".join(
        f'<sheet name="{escape(name)}" sheetId="{i}" r:id="rId{i}"/>' for i, name in enumerate(sheets, 1)
    )
    workbook = (
        f'<?xml version="1.0" encoding="UTF-8"?>{workbook_prolog}'
        f'<workbook {NS} xmlns:r="{REL_NS}"><sheets>{entries}</sheets></workbook>'
    )
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{REL_NS}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, len(sheets) + 1)
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("xl/workbook.xml", workbook)
        archive.writestr(
            "xl/_rels/workbook.xml.rels",
            '<?xml version="1.0" encoding="UTF-8"?>'
            f'<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{rels}'
            "</Relationships>",
        )
        for i, xml in enumerate(sheets.values(), 1):
            if isinstance(xml, str):
                archive.writestr(f"xl/worksheets/sheet{i}.xml", xml)
                continue
            with archive.open(f"xl/worksheets/sheet{i}.xml", "w", force_zip64=True) as part:
                for chunk in xml:
                    part.write(chunk)
    return path


def vinfo_rows(
    *vms: tuple[str, int | None, int | None], extra: list[str] | None = None
) -> list[tuple[int, list[object]]]:
    """Header row plus one row per (name, cpus, memory_mb) VM, numbered from 1."""
    headers = VINFO_HEADERS + (extra or [])
    rows: list[tuple[int, list[object]]] = [(1, list(headers))]
    for i, (name, cpus, memory) in enumerate(vms, 2):
        rows.append((i, [name, "poweredOn", cpus, memory, f"vm-{i}"]))
    return rows
