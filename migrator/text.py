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
    text = unicodedata.normalize("NFC", str(value))
    text = "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))
    return text[:MAX_TEXT]
