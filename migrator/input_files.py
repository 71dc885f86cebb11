"""Reading a user's input file, with the limits every reader shares (docs/limits.md).

Every reader (RVTools xlsx, inventory JSON, flow CSV) is bounded in what it accepts so that a
hostile or broken file costs bounded time and memory: the defaults sit at what the formats
themselves allow (Excel's grid, its longest cell) or well above real exports, and each can be
raised through an environment variable. Exceeding one is a one-line bad-input error (exit 2)
naming the file and the limit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

from migrator.errors import InputFileError, UsageError

MiB = 1024**2


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
                value = int(text.strip())
            except ValueError:
                raise UsageError(f"{name}={text[:20]!r}: expected a positive whole number") from None
            if value <= 0:
                raise UsageError(f"{name}={value}: expected a positive whole number")
            values[f.name] = value
        return cls(**values)

    def exceeded(self, path: Path | str, what: str, field: str, seen: object = None) -> InputFileError:
        """The error for one exceeded limit: names the file, the limit and how to raise it."""
        name = Path(path).name if isinstance(path, Path) else path
        limit = getattr(self, field)
        extra = f" ({seen})" if seen is not None else ""
        return InputFileError(
            f"{name}: {what} exceeds the limit of {limit:,}{_UNITS[field]}{extra}; "
            f"raise it with {env_name(field)} (docs/limits.md)"
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
        raise InputFileError(exc.message + too_big_hint) from None
    try:
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
