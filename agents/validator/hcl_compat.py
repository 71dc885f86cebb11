"""HCL that Terraform's core accepts and python-hcl2 8 does not, rewritten so python-hcl2 reads it.

Syntax is the core's verdict (agents/validator/__init__.py); python-hcl2's parse only feeds the policies
and the built-in checks. When it refuses a file, the file is read again after these rewrites,
each one measured against the real core in tests/test_foreign_iac.py:

- a byte order mark at the start (editors on Windows write one);
- a heredoc's closing marker followed by spaces or tabs (`\tEOT \n`): python-hcl2 wants the
  newline right after the marker, the core allows blanks;
- identifiers with letters beyond ASCII (`locals { größe = 1 }`, `var.größe`, a bare block
  label): python-hcl2's names are ASCII; each such letter is spelt as an ASCII placeholder for
  the parse and put back in every key and string of the result;
- an interpolation or directive inside a quoted string that spans lines (`"${\n  x\n}"`);
- a `for` expression whose value is a bare number, bool or null (`{ for k in x : k => true }`,
  `[for v in x : 1]`): python-hcl2 8.1 fails to write it back as text; the value is wrapped in
  parentheses (the expression's text in the result then shows them).

What still fails is read block by block (`parse_blocks`), so one odd block hides only itself.
"""

from __future__ import annotations

import re
from typing import Any

_MARKER = "__MIGRATOR_U{:X}__"
_PLACEHOLDER = re.compile(r"__MIGRATOR_U([0-9A-F]+)__")
_OPENER = re.compile(r"<<-?([A-Za-z_][\w.-]*)\r?$")
_LITERAL = r"(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null)"
_FOR_OBJECT_VALUE = re.compile(rf"(=>\s*){_LITERAL}(?=\s*(?:\.\.\.)?\s*(?:if\b|\}}|$))")
_FOR_TUPLE_VALUE = re.compile(rf"(\[\s*for\b[^:\n]*:\s*){_LITERAL}(?=\s*(?:if\b|\]|$))")


def normalise(text: str) -> str | None:
    """The text rewritten as above, or None when it holds a placeholder already (then the
    letters could not be put back unambiguously)."""
    if _PLACEHOLDER.search(text):
        return None
    text = text.removeprefix("\ufeff")
    lines = _join_open_interpolations(_heredocs_and_values(text.splitlines(keepends=True)))
    return "".join(_ascii(c) for c in "".join(lines))


def restore(value: Any) -> Any:
    """Put back the letters `normalise` spelt as placeholders, in every key and string."""
    if isinstance(value, str):
        return _PLACEHOLDER.sub(lambda m: chr(int(m[1], 16)), value) if "__MIGRATOR_U" in value else value
    if isinstance(value, dict):
        return {restore(k): restore(v) for k, v in value.items()}
    if isinstance(value, list):
        return [restore(v) for v in value]
    return value


def _ascii(char: str) -> str:
    if char < "\x80" or not ("a" + char).isidentifier():
        return char
    return _MARKER.format(ord(char))


def _heredocs_and_values(lines: list[str]) -> list[str]:
    """Closing markers without trailing blanks; `for` values in parentheses outside heredocs.
    Heredoc bodies are left exactly as they are."""
    out = []
    marker = None
    for line in lines:
        body = line.rstrip("\r\n")
        ending = line[len(body) :]
        if marker is not None:
            if body.strip() == marker:
                line = body.rstrip(" \t") + ending
                marker = None
            out.append(line)
            continue
        body = _FOR_TUPLE_VALUE.sub(r"\1(\2)", _FOR_OBJECT_VALUE.sub(r"\1(\2)", body))
        opener = _OPENER.search(body)
        marker = opener[1] if opener else None
        out.append(body + ending)
    return out


def _join_open_interpolations(lines: list[str]) -> list[str]:
    """A line whose quoted string leaves a `${` or `%{` open is joined with the next ones (the
    newline becomes a space) until the string closes. Heredoc bodies are never joined."""
    out: list[str] = []
    pending = ""
    marker = None
    for line in lines:
        if marker is not None:
            out.append(line)
            if line.strip() == marker:
                marker = None
            continue
        text = pending + line
        if _open_in_string(text):
            pending = text.rstrip("\r\n") + " "
            continue
        pending = ""
        out.append(text)
        opener = _OPENER.search(text.rstrip("\r\n"))
        marker = opener[1] if opener else None
    return [*out, pending] if pending else out


def _open_in_string(text: str) -> bool:
    """Whether the text ends inside a template sequence of a quoted string."""
    stack: list[list[int] | str] = []  # "s": a quoted string; [n]: a template sequence, n braces open
    i = 0
    while i < len(text):
        char, top = text[i], (stack[-1] if stack else None)
        if top == "s":
            if char == "\\":
                i += 1
            elif char == '"':
                stack.pop()
            elif text.startswith(("${", "%{"), i) and text[i - 1 : i] != char:
                stack.append([0])
                i += 1
        elif char == '"':
            stack.append("s")
        elif isinstance(top, list) and char in "{}":
            if char == "{":
                top[0] += 1
            elif top[0]:
                top[0] -= 1
            else:
                stack.pop()
        elif top is None and (char == "#" or text.startswith("//", i)):
            return False
        i += 1
    return bool(stack) and isinstance(stack[-1], list)
