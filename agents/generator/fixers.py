"""Fixers: given generated files and the validators' diagnostics, propose corrected files.

The deterministic fixer below repairs what a diagnostic fully determines (a misspelt argument
with one close match, a field the schema does not allow). The LLM fixer of the agent issue
implements the same protocol; whatever any fixer returns is validated again before it lands.
"""

from __future__ import annotations

import re
from typing import Any, Protocol

import yaml

from migrator.diagnostics import Diagnostic

_DID_YOU_MEAN = re.compile(r'named "([^"]+)" is not expected here\. Did you mean "([^"]+)"\?')
_ATTRIBUTE = re.compile(r'exported attribute named "([^"]+)"\. Did you mean "([^"]+)"\?')
_EXTRA_FIELD = re.compile(r"^(/[^:]*): additionalProperties '([^']+)' not allowed$")


class Fixer(Protocol):
    def fix(self, files: dict[str, str], diagnostics: list[Diagnostic]) -> dict[str, str] | None:
        """Corrected files, or None when there is nothing this fixer can do."""


class DeterministicFixer:
    def fix(self, files: dict[str, str], diagnostics: list[Diagnostic]) -> dict[str, str] | None:
        fixed = dict(files)
        for d in diagnostics:
            if d.file not in fixed:
                continue
            if d.rule == "TF-UNSUPPORTED-ARGUMENT" and d.line:
                match = _DID_YOU_MEAN.search(d.message)
                if match:
                    fixed[d.file] = _replace_on_line(
                        fixed[d.file], d.line, rf"^(\s*){re.escape(match[1])}(\s*=)", rf"\g<1>{match[2]}\g<2>"
                    )
            elif d.rule == "TF-UNSUPPORTED-ATTRIBUTE" and d.line:
                match = _ATTRIBUTE.search(d.message)
                if match:
                    fixed[d.file] = _replace_on_line(
                        fixed[d.file], d.line, rf"\.{re.escape(match[1])}\b", f".{match[2]}"
                    )
            elif d.rule == "K8S-SCHEMA-ADDITIONAL-PROPERTY":
                match = _EXTRA_FIELD.match(d.message)
                if match:
                    fixed[d.file] = _drop_field(fixed[d.file], d.resource, match[1], match[2])
        return fixed if fixed != files else None


def _replace_on_line(text: str, line: int, pattern: str, replacement: str) -> str:
    lines = text.split("\n")
    if 0 < line <= len(lines):
        lines[line - 1] = re.sub(pattern, replacement, lines[line - 1], count=1)
    return "\n".join(lines)


def _drop_field(text: str, resource: str, pointer: str, field: str) -> str:
    header = "".join(line + "\n" for line in text.split("\n") if line.startswith("#"))
    docs = list(yaml.safe_load_all(text))
    for doc in docs:
        if (
            not isinstance(doc, dict)
            or f"{doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}" != resource
        ):
            continue
        node: Any = doc
        for part in [p for p in pointer.split("/") if p]:
            node = node[int(part)] if isinstance(node, list) else node.get(part)
        if isinstance(node, dict):
            node.pop(field, None)
    body = "---\n".join(
        yaml.safe_dump(d, sort_keys=False, allow_unicode=True, width=120) for d in docs if d is not None
    )
    return header + body
