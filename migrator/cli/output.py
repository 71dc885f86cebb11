"""Rendering listings as table, JSON or CSV: every listing command goes through here."""

from __future__ import annotations

import csv
import json
import sys
from collections.abc import Sequence
from enum import StrEnum
from typing import Any, TextIO

from rich.console import Console
from rich.table import Table
from rich.text import Text


class Format(StrEnum):
    table = "table"
    json = "json"
    csv = "csv"


def dump_json(data: Any, out: TextIO | None = None) -> None:
    stream = out or sys.stdout
    json.dump(data, stream, indent=2, ensure_ascii=False, default=str)
    stream.write("\n")


def render(
    rows: Sequence[dict[str, Any]],
    columns: Sequence[tuple[str, str]],  # (key, header)
    fmt: Format,
    title: str | None = None,
    json_payload: Any = None,
) -> None:
    if fmt is Format.json:
        dump_json(json_payload if json_payload is not None else list(rows))
        return
    if fmt is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow([header for _key, header in columns])
        for row in rows:
            writer.writerow([_csv_cell(row.get(key)) for key, _header in columns])
        return
    table = Table(title=title, show_lines=False)
    for _key, header in columns:
        table.add_column(header, overflow="fold")
    for row in rows:
        # Text(), not markup: inventory names may contain "[...]" that Rich would interpret.
        table.add_row(*(Text(_cell(row.get(key))) for key, _header in columns))
    console = Console(soft_wrap=False)
    if not console.is_terminal:
        console.width = 220  # piped output: do not squeeze columns into 80 characters
    console.print(table)


def _csv_cell(value: Any) -> str:
    """A cell for a spreadsheet: text starting like a formula (inventory or CMDB text) is quoted
    with a leading apostrophe so that a spreadsheet shows it instead of evaluating it."""
    text = _cell(value)
    return "'" + text if isinstance(value, str) and text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return ", ".join(_cell(v) for v in value)
    return str(value)
