"""Reading a user's input file whole, with the size limit and errors every importer shares."""

from __future__ import annotations

from pathlib import Path

from migrator.errors import InputFileError

MAX_INPUT_BYTES = 2 * 1024**3


def read_input(path: Path, too_big_hint: str = "") -> bytes:
    """The file's bytes, or one clear error (missing, unreadable, larger than 2 GiB)."""
    try:
        if path.stat().st_size > MAX_INPUT_BYTES:
            raise InputFileError(f"{path}: larger than 2 GiB{too_big_hint}")
        return path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"cannot read {path}: {exc.strerror or exc}") from None
