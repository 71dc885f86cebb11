"""A bounded, streaming reader for the cells of an xlsx workbook (what RVTools writes).

Why not openpyxl: in read-only mode it trusts a sheet's `<dimension>` (a stale one hides rows,
a huge one makes it build millions of empty rows), keeps every shared string and every cell
text whole however long, and lets expat's entity errors escape as internal errors. Here each
part is decompressed in chunks and fed to expat, so memory and time follow the limits
(migrator.input_files.Limits): declared and actual decompressed size per part and in total,
rows, columns, string length and nesting depth. Documents with a DTD are refused outright
(no xlsx needs one; it is how billion-laughs and XXE files work). Only what is there is read:
empty rows never exist, a cell far away is one cell.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from xml.parsers import expat

from migrator.errors import InputFileError
from migrator.input_files import Limits, MiB

_CHUNK = 1 << 20
_CELL_REF = re.compile(r"^([A-Z]{1,3})(\d+)$")

Row = dict[int, Any]  # 0-based column -> value; only cells that exist


@dataclass
class SheetCells:
    name: str
    rows: list[tuple[int, Row]] = field(default_factory=list)  # (1-based row number, cells)


class _Refused(Exception):
    """Raised inside expat handlers; turned into an InputFileError naming the part."""


def _local(name: str) -> str:
    return name.rsplit(":", 1)[-1]


class _Workbook:
    def __init__(self, path: Path, archive: zipfile.ZipFile, limits: Limits) -> None:
        self.path, self.archive, self.limits = path, archive, limits
        self.expanded = 0  # decompressed bytes read so far, all parts

    def error(self, message: str) -> InputFileError:
        return InputFileError(f"{self.path.name}: {message}")

    def parse(
        self,
        part: str,
        start: Callable[[str, dict[str, str]], None],
        end: Callable[[str], None],
        text: Callable[[str], None] | None = None,
        direct: bool = False,
    ) -> None:
        """Stream one part through expat with the handlers given, within every limit. `direct`:
        the handlers take raw names and count nesting depth themselves (the hot path)."""
        try:
            info = self.archive.getinfo(part)
        except KeyError:
            raise self.error(f"the workbook is corrupt (part {part} is missing)") from None
        limit = self.limits.expanded_mb * MiB
        if info.file_size > limit:
            raise self.limits.exceeded(
                self.path, f"part {part} (declared size)", "expanded_mb", f"{info.file_size / MiB:,.0f} MiB"
            )
        parser = expat.ParserCreate()
        parser.buffer_text = True
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        depth = 0

        def refuse_dtd(*_args: object) -> None:
            raise _Refused("has a DTD (entity declarations), which no xlsx needs: refused")

        def on_start(name: str, attrs: dict[str, str]) -> None:
            nonlocal depth
            depth += 1
            if depth > self.limits.depth:
                raise self.limits.exceeded(self.path, f"XML nesting in {part}", "depth")
            start(_local(name), attrs)

        def on_end(name: str) -> None:
            nonlocal depth
            depth -= 1
            end(_local(name))

        parser.StartDoctypeDeclHandler = refuse_dtd
        parser.EntityDeclHandler = refuse_dtd
        parser.StartElementHandler = start if direct else on_start
        parser.EndElementHandler = end if direct else on_end
        if text is not None:
            parser.CharacterDataHandler = text
        actual = 0
        try:
            with self.archive.open(info) as stream:
                while chunk := stream.read(_CHUNK):
                    actual += len(chunk)
                    self.expanded += len(chunk)
                    if actual > limit:
                        raise self.limits.exceeded(self.path, f"part {part} (decompressed)", "expanded_mb")
                    if self.expanded > self.limits.expanded_total_mb * MiB:
                        raise self.limits.exceeded(self.path, "decompressed workbook", "expanded_total_mb")
                    parser.Parse(chunk, False)
                parser.Parse(b"", True)
        except _Refused as exc:
            raise self.error(f"part {part} {exc}") from None
        except expat.ExpatError as exc:
            raise self.error(
                f"part {part} is not well-formed XML ({expat.ErrorString(exc.code)}, line {exc.lineno})"
            ) from None
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise self.error(f"the workbook is corrupt ({part}: {str(exc)[:80]})") from None

    # -- workbook structure ------------------------------------------------------------------
    def sheet_parts(self) -> tuple[dict[str, str], str | None]:
        """{sheet name: part path} and the shared-strings part, from workbook.xml and its rels."""
        sheets: list[tuple[str, str]] = []
        rels: dict[str, tuple[str, str]] = {}

        def on_sheet(name: str, attrs: dict[str, str]) -> None:
            if name == "sheet":
                rel = next((v for k, v in attrs.items() if _local(k) == "id"), "")
                sheets.append((attrs.get("name", ""), rel))

        def on_rel(name: str, attrs: dict[str, str]) -> None:
            if name == "Relationship":
                rels[attrs.get("Id", "")] = (attrs.get("Type", ""), attrs.get("Target", ""))

        self.parse("xl/workbook.xml", on_sheet, lambda _n: None)
        if "xl/_rels/workbook.xml.rels" in self.archive.namelist():
            self.parse("xl/_rels/workbook.xml.rels", on_rel, lambda _n: None)

        def part(target: str) -> str:
            return target.lstrip("/") if target.startswith("/") else posixpath.normpath(f"xl/{target}")

        parts = {name: part(rels[rel][1]) for name, rel in sheets if rel in rels}
        # transitional and strict OOXML name the relationship type in different namespaces
        shared = next((part(t) for kind, t in rels.values() if kind.endswith("/sharedStrings")), None)
        if shared is None and "xl/sharedStrings.xml" in self.archive.namelist():
            shared = "xl/sharedStrings.xml"
        return parts, shared

    def shared_strings(self, part: str | None) -> list[str]:
        strings: list[str] = []
        texts: list[str] = []
        state = {"in_t": False, "phonetic": 0, "length": 0}

        def on_start(name: str, _attrs: dict[str, str]) -> None:
            if name == "si":
                texts.clear()
                state["length"] = 0
            elif name == "rPh":
                state["phonetic"] += 1
            elif name == "t" and not state["phonetic"]:
                state["in_t"] = True

        def on_end(name: str) -> None:
            if name == "si":
                strings.append("".join(texts))
            elif name == "rPh":
                state["phonetic"] -= 1
            elif name == "t":
                state["in_t"] = False

        def on_text(data: str) -> None:
            if state["in_t"]:
                state["length"] += len(data)
                if state["length"] > self.limits.string_chars:
                    raise self.limits.exceeded(self.path, f"shared string {len(strings)}", "string_chars")
                texts.append(data)

        if part is not None:
            self.parse(part, on_start, on_end, on_text)
        return strings

    def cells(self, name: str, part: str, shared: list[str]) -> SheetCells:
        return _SheetParser(self, name, part, shared).run()


class _SheetParser:
    """The cells of one worksheet part, row by row, as they are in the file."""

    def __init__(self, book: _Workbook, name: str, part: str, shared: list[str]) -> None:
        self.book, self.part, self.shared = book, part, shared
        self.limits = book.limits
        self.out = SheetCells(name)
        self.row: Row = {}
        self.row_no = 0
        self.col = -1
        self.kind = ""
        self.texts: list[str] = []
        self.length = 0
        self.capture = False
        self.phonetic = 0
        self.depth = 0
        self.columns: dict[str, int] = {}  # column letters -> index, cached

    def run(self) -> SheetCells:
        self.book.parse(self.part, self.start, self.end, self.text, direct=True)
        return self.out

    def where(self) -> str:
        return f"sheet {self.out.name} row {self.row_no}"

    def start(self, name: str, attrs: dict[str, str]) -> None:
        self.depth += 1
        if self.depth > self.limits.depth:
            raise self.limits.exceeded(self.book.path, f"XML nesting in {self.part}", "depth")
        if ":" in name:
            name = _local(name)
        if name == "row":
            self.row_no = _positive(attrs.get("r"), self.row_no + 1)
            self.row = {}
            self.col = -1
        elif name == "c":
            self.col = self._column(attrs.get("r"))
            self.kind = attrs.get("t", "n")
            self.texts, self.length = [], 0
        elif name == "rPh":
            self.phonetic += 1
        elif name in ("v", "t") and not self.phonetic:
            self.capture = True

    def end(self, name: str) -> None:
        self.depth -= 1
        if ":" in name:
            name = _local(name)
        if name in ("v", "t"):
            self.capture = False
        elif name == "rPh":
            self.phonetic -= 1
        elif name == "c":
            value = self._value("".join(self.texts)) if self.texts else None
            if value not in (None, ""):
                self.row[self.col] = value
        elif name == "row" and self.row:
            if len(self.out.rows) >= self.limits.rows:
                raise self.limits.exceeded(self.book.path, f"sheet {self.out.name}", "rows")
            self.out.rows.append((self.row_no, self.row))
            self.row = {}

    def text(self, data: str) -> None:
        if self.capture:
            self.length += len(data)
            if self.length > self.limits.string_chars:
                raise self.limits.exceeded(self.book.path, f"{self.where()}: a cell's text", "string_chars")
            self.texts.append(data)

    def _column(self, ref: str | None) -> int:
        if not ref:
            col = self.col + 1
        else:
            letters = ref.rstrip("0123456789")
            cached = self.columns.get(letters)
            if cached is not None and len(letters) < len(ref):
                col = cached
            else:
                if _CELL_REF.match(ref) is None:
                    raise self.book.error(f"{self.where()}: bad cell reference {ref[:20]!r}")
                col = 0
                for letter in letters:
                    col = col * 26 + ord(letter) - 64
                col -= 1
                self.columns[letters] = col
        if col >= self.limits.columns:
            raise self.limits.exceeded(self.book.path, f"{self.where()}: column {col + 1}", "columns")
        return col

    def _value(self, raw: str) -> Any:
        kind = self.kind
        if kind == "s":
            try:
                return self.shared[int(raw)]
            except (ValueError, IndexError):
                raise self.book.error(f"{self.where()}: shared string {raw[:20]!r} does not exist") from None
        if kind == "b":
            return raw.strip() == "1"
        if kind in ("inlineStr", "str", "e", "d"):
            return raw
        text = raw.strip()
        try:
            return int(text)
        except ValueError:
            try:
                return float(text)
            except ValueError:
                return raw


def _positive(text: str | None, default: int) -> int:
    return int(text) if text and text.isdigit() and int(text) > 0 else default


def read_cells(path: Path, wanted: Iterable[str], limits: Limits) -> dict[str, SheetCells]:
    """The cells of each wanted sheet present (matched case-insensitively), keyed by wanted name."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise InputFileError(
            f"{path.name}: not a readable xlsx workbook (is it an RVTools export?)"
        ) from None
    with archive:
        if "xl/workbook.xml" not in archive.namelist():
            raise InputFileError(f"{path.name}: not a readable xlsx workbook (is it an RVTools export?)")
        book = _Workbook(path, archive, limits)
        parts, shared_part = book.sheet_parts()
        present = {name.lower(): name for name in parts}
        chosen = {w: present[w.lower()] for w in wanted if w.lower() in present}
        shared = book.shared_strings(shared_part) if chosen else []
        return {w: book.cells(actual, parts[actual], shared) for w, actual in chosen.items()}
