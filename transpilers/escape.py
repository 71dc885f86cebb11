"""Inventory text is untrusted: every place it reaches generated code goes through here.

HCL: a quoted template string where `${` and `%{` would start interpolation or directives, so
they are doubled; quotes, backslashes, newlines and every control or invisible (format)
character become escapes. Kubernetes: label values are restricted to their grammar; free text
goes into annotations through the YAML emitter, which quotes what needs quoting.
"""

from __future__ import annotations

import re
import unicodedata

from transpilers.naming import ascii_fold

MAX_TEXT = 256  # longest inventory text copied into generated files; the rest is cut


def _visible(ch: str) -> bool:
    return unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp")


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def hcl_string(text: str) -> str:
    """A safe HCL quoted string literal for any text."""
    if text.isascii() and text.isprintable():  # the common case: only \ and " need escapes
        body = text.replace("\\", "\\\\").replace('"', '\\"')
        return '"' + body.replace("${", "$${").replace("%{", "%%{") + '"'
    out = []
    for ch in text:
        if ch == "\\":
            out.append("\\\\")
        elif ch == '"':
            out.append('\\"')
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\\t")
        elif not _visible(ch):
            code = ord(ch)
            out.append(f"\\u{code:04X}" if code <= 0xFFFF else f"\\U{code:08X}")
        else:
            out.append(ch)
    body = "".join(out).replace("${", "$${").replace("%{", "%%{")
    return f'"{body}"'


def one_line(text: str, limit: int = MAX_TEXT) -> str:
    """Text safe for a comment or a report line: visible characters only, on one line."""
    cleaned = "".join(ch if _visible(ch) and ch not in "\t" else " " for ch in text)
    return clip(re.sub(r"\s+", " ", cleaned).strip(), limit)


# AWS tag values: letters, digits, spaces and + - = . _ : / @, up to 256 characters.
_AWS_TAG_UNSAFE = re.compile(r"[^\w\s+\-=.:/@]", re.UNICODE)


def aws_tag_value(text: str) -> str:
    value = _AWS_TAG_UNSAFE.sub("_", one_line(text, 256))
    return re.sub(r"\s+", " ", value)[:256]


# Security group descriptions: ASCII letters, digits, spaces and ._-:/()#,@[]+=&;{}!$*
_AWS_DESCRIPTION_UNSAFE = re.compile(r"[^A-Za-z0-9 ._\-:/()#,@\[\]+=&;{}!$*]")


def aws_description(text: str) -> str:
    # clipped again after folding: folding widens characters ("…" becomes "...", "ß" "ss")
    return _AWS_DESCRIPTION_UNSAFE.sub("_", ascii_fold(one_line(text, 255)))[:255]


_LABEL_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def label_value(text: str) -> str:
    """A Kubernetes label value: at most 63 of [A-Za-z0-9._-], starting and ending alphanumeric."""
    value = _LABEL_UNSAFE.sub("-", ascii_fold(text))[:63]
    return value.strip("._-")


def md_text(text: str, limit: int = MAX_TEXT) -> str:
    """Inventory text for a Markdown report: one line, no HTML, no table or code breaks."""
    cleaned = one_line(text, limit)
    for ch, entity in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        cleaned = cleaned.replace(ch, entity)
    return re.sub(r"([\\`*_\[\]|#])", r"\\\1", cleaned)


def csv_cell(text: str) -> str:
    """A CSV cell a spreadsheet shows as text: inventory text starting like a formula (= + - @,
    or a tab or carriage return before one) gets a leading apostrophe, as the CLI's CSV output
    does. The csv module quotes separators, quotes and line breaks."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
