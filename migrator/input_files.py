"""Reading a user's input file, with the limits every reader shares (docs/limits.md).

Every reader (RVTools xlsx, inventory JSON, flow CSV) is bounded in what it accepts so that a
hostile or broken file costs bounded time and memory: the defaults sit at what the formats
themselves allow (Excel's grid, its longest cell) or well above real exports, and each can be
raised through an environment variable or a command's repeatable `--limit NAME=VALUE` option
(which wins). Exceeding one is a one-line bad-input error (exit 2) naming the file and the limit.
`raise_limits` is also how `migrator validate` reads its own `--limit` (agents.validator.limits).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from migrator.errors import InputFileError, UsageError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

MiB = 1024**2
L = TypeVar("L", bound="DataclassInstance")


def raise_limits(limits: L, specs: Sequence[str], parse: Callable[[str], int]) -> L:
    """`NAME=VALUE` pairs (a repeatable `--limit` option: `rows=2000000`, `file-size=16MiB`)
    applied over a dataclass of limits; NAME is a field with `-` for `_`, VALUE goes through
    `parse` (ValueError: a bad value). Either mistake is one usage error naming every limit."""
    names = {f.name.replace("_", "-"): f.name for f in fields(limits)}
    valid = ", ".join(sorted(names))
    changes: dict[str, int] = {}
    for spec in specs:
        name, _, value = spec.partition("=")
        field = names.get(name.strip().replace("_", "-"))
        if field is None:
            raise UsageError(f"{{limit}} {spec!r}: unknown limit; use one of {valid}", field="limit")
        try:
            changes[field] = parse(value)
        except ValueError as exc:
            raise UsageError(f"{{limit}} {spec!r}: {exc}; the limits are {valid}", field="limit") from None
    return replace(limits, **changes)


def positive_whole(text: str) -> int:
    """A limit's value as `--limit` and MIGRATOR_LIMIT_* give it."""
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or int(value) <= 0:
        raise ValueError("expected a positive whole number")
    return int(value)


@dataclass(frozen=True)
class Limits:
    """Bounds on one input file. Field metadata: (environment variable, unit shown to the user)."""

    file_mb: int = 2048  # bytes on disk
    expanded_mb: int = 1024  # an xlsx part once decompressed (declared and actual)
    expanded_total_mb: int = 4096  # all the xlsx parts read, decompressed
    rows: int = 1_048_576  # rows per sheet (Excel's own maximum)
    rows_csv: int = 100_000_000  # rows per flow CSV (about what the file-size limit allows)
    columns: int = 16_384  # columns per sheet (Excel's own maximum, column XFD)
    string_chars: int = 65_536  # characters in one cell or CSV field (inventory text is capped there)
    depth: int = 64  # nesting depth of JSON and XML

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Limits:
        env = os.environ if environ is None else environ
        values: dict[str, int] = {}
        for f in fields(cls):
            name = env_name(f.name)
            text = env.get(name)
            if text is None or not text.strip():
                continue
            try:
                values[f.name] = positive_whole(text)
            except ValueError as exc:
                raise UsageError(f"{name}={text[:20]!r}: {exc}") from None
        return cls(**values)

    @classmethod
    def resolve(cls, specs: Sequence[str] = ()) -> Limits:
        """The defaults, then MIGRATOR_LIMIT_* variables, then `--limit NAME=VALUE` pairs."""
        return raise_limits(cls.from_env(), specs, positive_whole)

    def exceeded(self, path: Path | str, what: str, field: str, seen: object = None) -> InputFileError:
        """The error for one exceeded limit: names the file, the limit and how to raise it."""
        name = Path(path).name if isinstance(path, Path) else path
        limit = getattr(self, field)
        extra = f" ({seen})" if seen is not None else ""
        return InputFileError(
            f"{name}: {what} exceeds the limit of {limit:,}{_UNITS[field]}{extra}; raise it with "
            f"{{limit}} {option_name(field)}=N or {env_name(field)} (docs/limits.md)",
            field="limit",
        )


_UNITS = {
    "file_mb": " MiB",
    "expanded_mb": " MiB",
    "expanded_total_mb": " MiB",
    "rows": " rows",
    "rows_csv": " rows",
    "columns": " columns",
    "string_chars": " characters",
    "depth": " levels",
}


def env_name(field: str) -> str:
    return f"MIGRATOR_LIMIT_{field.upper()}"


def option_name(field: str) -> str:
    """The limit's NAME in `--limit NAME=VALUE`."""
    return field.replace("_", "-")


def check_size(path: Path, limits: Limits) -> int:
    """The file's size, or one clear error (missing, not a file, over the file-size limit)."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
    if size > limits.file_mb * MiB:
        raise limits.exceeded(path, "file size", "file_mb", f"{size / MiB:,.0f} MiB")
    return size


def read_input(path: Path, too_big_hint: str = "", limits: Limits | None = None) -> bytes:
    """The file's bytes, or one clear error (missing, unreadable, over the file-size limit)."""
    limits = limits or Limits.from_env()
    try:
        check_size(path, limits)
    except InputFileError as exc:
        raise InputFileError(exc.template + too_big_hint, field=exc.fields) from None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
