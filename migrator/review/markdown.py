"""Untrusted text (names, annotations, custom attributes) inside PLAN.md and PR bodies.

Every inventory value is shown as an inline code span on one line, never at the start of a line:
inside a code span Markdown has no headings, links, images, HTML, emphasis, mentions or task
lists, so a VM called `## Approved by @security-team <img src=x>` renders as exactly that text.
Control and invisible (format, bidi) characters are replaced first, so the value cannot break
the line or reorder what a reviewer sees. Inside a table cell GFM still splits at `|`, so
pipes are escaped there (GFM reads `\\|` as a pipe even inside a code span in a table).
"""

from __future__ import annotations

import re

from transpilers.escape import one_line

MAX_VALUE = 200


def code(text: object, limit: int = MAX_VALUE) -> str:
    """Any value as a one-line inline code span."""
    value = one_line(str(text), limit)
    if not value:
        return "(empty)"
    runs = [len(m) for m in re.findall(r"`+", value)]
    fence = "`" * (max(runs, default=0) + 1)
    pad = " " if value.startswith("`") or value.endswith("`") else ""
    return f"{fence}{pad}{value}{pad}{fence}"


def cell(text: object, limit: int = MAX_VALUE) -> str:
    """A value for a GFM table cell."""
    return code(text, limit).replace("|", "\\|")


def prose(text: object, limit: int = 300) -> str:
    """Migrator's own sentences that may quote inventory text: escaped, one line, no HTML."""
    value = one_line(str(text), limit)
    for ch, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        value = value.replace(ch, entity)
    value = re.sub(r"([\\`*_\[\]|#!~])", r"\\\1", value)
    return value.replace("@", "@\u2060") if "@" in value else value


def fence_for(body: str, char: str = "`") -> str:
    """A code fence longer than any run of the fence character inside the block."""
    runs = [len(m) for m in re.findall(re.escape(char) + "+", body)]
    return char * max(3, max(runs, default=0) + 1)
