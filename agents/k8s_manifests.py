"""Kubernetes manifests read from a folder's YAML files, each document with its line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from agents.limits import LOADER, LimitExceeded, Limits, check_yaml
from migrator.diagnostics import Diagnostic


@dataclass
class Manifest:
    file: str
    line: int  # first line of the document
    doc: Any
    node: yaml.Node  # for locating a path inside the document

    @property
    def ref(self) -> str:
        if isinstance(self.doc, dict):
            name = (
                (self.doc.get("metadata") or {}).get("name", "?")
                if isinstance(self.doc.get("metadata"), dict)
                else "?"
            )
            return f"{self.doc.get('kind', '?')}/{name}"
        return "?"

    def line_of(self, path: list[str | int]) -> int:
        """The line of the deepest node on the path that exists."""
        node = self.node
        for part in path:
            child = None
            if isinstance(node, yaml.MappingNode):
                child = next((v for k, v in node.value if k.value == part), None)
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                child = node.value[part]
            if child is None:
                break
            node = child
        return node.start_mark.line + 1


def load_manifests(texts: dict[str, str], limits: Limits) -> tuple[list[Manifest], list[Diagnostic]]:
    """Parse the files' texts (file name -> text); the limits are checked on the event stream
    first, so an alias bomb or a 100,000-level nesting never reaches the composer."""
    manifests: list[Manifest] = []
    problems: list[Diagnostic] = []
    for rel, text in sorted(texts.items()):
        try:
            check_yaml(text, limits)
            nodes = list(yaml.compose_all(text, Loader=LOADER))
            docs = list(yaml.load_all(text, Loader=LOADER))
        except LimitExceeded as exc:
            problems.append(
                Diagnostic("parse", f"LIMIT-{exc.limit.upper()}", "error", rel, exc.line, str(exc))
            )
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else None
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            problems.append(
                Diagnostic("parse", "YAML-SYNTAX", "error", rel, line, f"invalid YAML: {problem}")
            )
            continue
        for node, doc in zip(nodes, docs, strict=True):
            if node is None or doc is None:
                continue
            manifests.append(Manifest(rel, node.start_mark.line + 1, doc, node))
    return manifests, problems
