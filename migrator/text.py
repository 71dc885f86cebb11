"""Inventory text is untrusted: normalise it once, where it enters migrator."""

from __future__ import annotations

import unicodedata

MAX_TEXT = 65536


def clean_text(value: object) -> str | None:
    """Text as stored: NFC, control characters (but newline and tab) dropped, length-capped.

    Hostile annotations may carry terminal escapes, NULs or megabytes of text; none of that
    should reach a terminal, a database column or, later, generated code unchanged.
    """
    if value is None:
        return None
    return _normalised(value)[:MAX_TEXT]


def cut_by_clean_text(value: object) -> bool:
    """Whether clean_text would cut this value at MAX_TEXT (a reader counts what it changes)."""
    return isinstance(value, str) and len(value) > MAX_TEXT and len(_normalised(value)) > MAX_TEXT


def _normalised(value: object) -> str:
    text = unicodedata.normalize("NFC", str(value))
    if text.isprintable():  # the common case, without a pass per character: no Cc or Cs is printable
        return text
    return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))
