"""A Terraform root module read with python-hcl2, with the file and line of every block.

python-hcl2 keeps literal strings in their quotes and writes expressions as `${...}`, so the
two stay distinguishable; it gives no line numbers, so blocks and attributes are located in the
source text by their headers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import hcl2
from hcl2.utils import SerializationOptions

from agents.validator.hcl_compat import normalise, restore
from agents.validator.known import Known
from agents.validator.limits import LimitExceeded, Limits, check_hcl
from migrator.diagnostics import Diagnostic

_META_KEYS = ("__is_block__", "__start_line__", "__end_line__", "__comments__", "__inline_comments__")


@dataclass
class TfBlock:
    kind: str  # resource | data | variable | output | locals | provider | terraform | module
    labels: tuple[str, ...]
    body: dict[str, Any]
    file: str
    line: int | None
    end_line: int | None  # last line of the block's text (for locating attributes)

    @property
    def address(self) -> str:
        return ".".join(self.labels) if self.kind == "resource" else ".".join((self.kind, *self.labels))


@dataclass(frozen=True)
class Gap:
    """Lines of a file python-hcl2 could not read, rewritten or block by block (hcl_compat.py)."""

    first: int
    last: int
    what: str  # the block's header: `resource "aws_instance" "web"`, or "text outside any block"


@dataclass(frozen=True)
class SyntaxProblem:
    """python-hcl2's own verdict on the file as written."""

    line: int | None
    message: str

    def at(self, rel: str) -> Diagnostic:
        return Diagnostic("parse", "HCL-SYNTAX", "error", rel, self.line, f"invalid HCL: {self.message}")


@dataclass
class TfModule:
    blocks: list[TfBlock] = field(default_factory=list)
    texts: dict[str, list[str]] = field(default_factory=dict)  # file -> lines
    # files python-hcl2 could not read as written -> the parts it could not read at all (none:
    # the rewrites of agents/validator/hcl_compat.py read the whole file)
    gaps: dict[str, list[Gap]] = field(default_factory=dict)

    def of(self, kind: str) -> list[TfBlock]:
        return [b for b in self.blocks if b.kind == kind]

    def line_of(self, block: TfBlock, key: str, start: int | None = None) -> int | None:
        """The line where `key = ...` or `key {` appears inside the block (first match)."""
        lines = self.texts.get(block.file, [])
        first = start or block.line
        if first is None:
            return None
        pattern = re.compile(rf'^\s*"?{re.escape(key)}"?\s*(=|\{{)')
        last = block.end_line or len(lines)
        for number in range(first, min(last, len(lines)) + 1):
            if pattern.match(lines[number - 1]):
                return number
        return block.line


def literal(value: Any) -> Any:
    """hcl2's quoted literal -> its text; expressions and other values are returned unchanged."""
    if isinstance(value, str) and len(value) >= 2 and value.startswith('"') and value.endswith('"'):
        return _unescape(value[1:-1])
    return value


def is_expression(value: Any) -> bool:
    return isinstance(value, str) and not (value.startswith('"') and value.endswith('"'))


def _unescape(text: str) -> str:
    """HCL string escapes, and the doubled `$${` / `%%{` that stand for a literal `${` / `%{`."""
    text = re.sub(r"\\(u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|.)", _escape_char, text)
    return text.replace("$${", "${").replace("%%{", "%{")


def _escape_char(match: re.Match[str]) -> str:
    code = match.group(1)
    if code[0] in "uU" and len(code) > 1:
        return chr(int(code[1:], 16))
    return {"n": "\n", "r": "\r", "t": "\t"}.get(code, code)


def clean(value: Any) -> Any:
    """Drop python-hcl2's bookkeeping keys, recursively."""
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items() if k not in _META_KEYS}
    if isinstance(value, list):
        return [clean(v) for v in value]
    return value


_HEADER = re.compile(
    r'^\s*(resource|data|variable|output|locals|provider|terraform|module)\b((?:\s+"[^"]*"|\s+[\w-]+)*)\s*\{'
)


def _headers(lines: list[str]) -> list[tuple[int, str, tuple[str, ...]]]:
    found = []
    for number, text in enumerate(lines, start=1):
        match = _HEADER.match(text)
        if match and not text.startswith((" ", "\t")):
            labels = tuple(re.findall(r'"([^"]*)"|([\w-]+)', match.group(2)))
            found.append((number, match.group(1), tuple(a or b for a, b in labels)))
    return found


def over_limits(texts: dict[str, str], limits: Limits) -> list[Diagnostic]:
    """The files over a limit (agents/validator/limits.py check_hcl), each as a diagnostic."""
    problems = []
    for rel, text in sorted(texts.items()):
        try:
            check_hcl(text, limits)
        except LimitExceeded as exc:
            problems.append(
                Diagnostic("parse", f"LIMIT-{exc.limit.upper()}", "error", rel, exc.line, str(exc))
            )
    return problems


def load_module(
    texts: dict[str, str],
    limits: Limits,
    known: Mapping[str, Known] | None = None,
    checked: bool = False,
) -> tuple[TfModule, list[Diagnostic]]:
    """Parse the files' texts (file name -> text), each checked against the limits first
    (`checked`: the caller has, with `over_limits`, and none is over).

    `known`: what migrator rendered per file (agents/validator/tf_model.py); a file still byte-identical to
    its rendering takes that parse instead of python-hcl2's, any other file is parsed."""
    known = known or {}
    module = TfModule()
    problems = [] if checked else over_limits(texts, limits)
    over = {d.file for d in problems}
    options = SerializationOptions(with_comments=False)
    for rel, text in sorted(texts.items()):
        if rel in over:
            continue
        lines = text.removeprefix("\ufeff").splitlines()
        module.texts[rel] = lines
        rendered = known.get(rel)
        if rendered is not None and rendered.matches(text):
            parsed = rendered.document
        else:
            parsed, error, gaps = _parse(text, lines, options)
            if error is not None:
                problems.append(error.at(rel))
                module.gaps[rel] = gaps
        headers = _headers(lines)
        ends = [h[0] - 1 for h in headers[1:]] + ([len(lines)] if headers else [])  # no blocks: none
        located = {
            (kind, labels): (start, end) for (start, kind, labels), end in zip(headers, ends, strict=True)
        }
        for kind, entries in parsed.items():
            for entry in entries if isinstance(entries, list) else [entries]:
                for labels, body in _flatten(kind, entry):
                    start, end = located.get((kind, labels), (None, None))
                    module.blocks.append(TfBlock(kind, labels, body, rel, start, end))
    return module, problems


def _parse(
    text: str, lines: list[str], options: SerializationOptions
) -> tuple[dict[str, Any], SyntaxProblem | None, list[Gap]]:
    """python-hcl2's parse of the text; when it refuses the text as written: its verdict, and
    the parse of the rewritten text, else of each top-level block (the gaps: what stayed out)."""
    try:
        return hcl2.loads(text, serialization_options=options), None, []
    except Exception as exc:  # lark raises many types; every one means "not valid HCL" to it
        message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        problem = SyntaxProblem(getattr(exc, "line", None), message)
    whole = _rewritten(text, options)
    if whole is not None:
        return whole, problem, []
    parsed: dict[str, list[Any]] = {}
    gaps = []
    starts = [number for number, _kind, _labels in _headers(lines)]
    before = starts[0] - 1 if starts else len(lines)
    if any(_code(line) for line in lines[:before]):
        gaps.append(Gap(1, before, "text outside any block"))
    for first, last in zip(starts, [*(n - 1 for n in starts[1:]), len(lines)], strict=True):
        chunk = "\n".join(lines[first - 1 : last]) + "\n"
        block = _rewritten(chunk, options)
        if block is None:
            gaps.append(Gap(first, last, lines[first - 1].split("{")[0].strip()))
            continue
        for kind, entries in block.items():
            parsed.setdefault(kind, []).extend(entries if isinstance(entries, list) else [entries])
    return parsed, problem, gaps


def _rewritten(text: str, options: SerializationOptions) -> dict[str, Any] | None:
    """python-hcl2's parse of the text as written or after agents/validator/hcl_compat.py's rewrites."""
    for attempt in (text, normalise(text)):
        if attempt is None:
            continue
        try:
            parsed: dict[str, Any] = restore(hcl2.loads(attempt, serialization_options=options))
            return parsed
        except Exception:  # not readable this way: the next attempt, or a gap
            continue
    return None


def _code(line: str) -> bool:
    """Whether a line outside any block holds more than blanks and comments."""
    stripped = line.strip()
    return bool(stripped) and not stripped.startswith(("#", "//", "/*", "*"))


def _flatten(kind: str, entry: dict[str, Any]) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    depth = {"resource": 2, "data": 2, "variable": 1, "output": 1, "provider": 1, "module": 1}.get(kind, 0)

    def walk(
        node: dict[str, Any], labels: tuple[str, ...], left: int
    ) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
        if left == 0:
            return [(labels, node)]
        out = []
        for key, child in node.items():
            if key in _META_KEYS:
                continue
            for item in child if isinstance(child, list) else [child]:
                out += walk(item, (*labels, str(literal(key))), left - 1)
        return out

    return walk(entry, (), depth)
