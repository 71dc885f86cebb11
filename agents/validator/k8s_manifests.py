"""Kubernetes manifests read from a folder's YAML files, each document with its line."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from agents.validator.known import Known
from agents.validator.limits import LOADER, LimitExceeded, Limits, check_yaml
from migrator.diagnostics import Diagnostic

# what a document without a shipped schema is (--missing-schemas); here, not in k8s_builtin, so
# that reading the option loads no schema validator
MISSING_SCHEMAS = ("error", "warning")


@dataclass
class Manifest:
    file: str
    line: int  # first line of the document
    doc: Any
    # for locating a path inside the document; a known (rendered) file's nodes are composed
    # only when a checker asks for a line
    composed: yaml.Node | None = field(default=None, repr=False)
    source: tuple[str, int] = field(default=("", 0), repr=False)  # (text, index of the document)

    @property
    def node(self) -> yaml.Node:
        if self.composed is None:
            text, index = self.source
            self.composed = [n for n in yaml.compose_all(text, Loader=LOADER) if n is not None][index]
        return self.composed

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


def load_manifests(
    texts: dict[str, str],
    limits: Limits,
    known: Mapping[str, Known] | None = None,
    named: Collection[str] = (),
) -> tuple[list[Manifest], list[Diagnostic]]:
    """Parse the files' texts (file name -> text); the limits are checked on the event stream
    first, so an alias bomb or a 100,000-level nesting never reaches the composer.

    A file is a manifest when one of its documents is a Kubernetes object (has both `apiVersion`
    and `kind`; then every document of it is checked) or when it is `named` (the user named it:
    checked whatever it holds). Any other YAML (cloud-init user data, CI settings, a template
    not rendered yet) is skipped with an info diagnostic saying so.

    `known`: what migrator rendered per file (agents/validator/known.py); a file still byte-identical to
    its rendering takes those documents instead of a parse (after the same limits check)."""
    known = known or {}
    manifests: list[Manifest] = []
    problems: list[Diagnostic] = []
    for rel, text in sorted(texts.items()):
        try:
            loader = check_yaml(text, limits)
            rendered = known.get(rel)
            found = _rendered(rel, text, rendered.document) if rendered and rendered.matches(text) else None
            if found is not None:
                manifests += found
                continue
            nodes = list(yaml.compose_all(text, Loader=loader))
            docs = list(yaml.load_all(text, Loader=loader))
        except LimitExceeded as exc:
            problems.append(
                Diagnostic("parse", f"LIMIT-{exc.limit.upper()}", "error", rel, exc.line, str(exc))
            )
            continue
        except RecursionError:  # a --limit depth raised past what PyYAML's composer can recurse
            problems.append(Diagnostic("parse", "LIMIT-DEPTH", "error", rel, None, _TOO_DEEP))
            continue
        except yaml.YAMLError as exc:
            problems.append(_unparsed(rel, text, exc, rel in named))
            continue
        pairs = [
            (node, doc) for node, doc in zip(nodes, docs, strict=True) if node is not None and doc is not None
        ]
        if rel not in named and not any(_is_object(doc) for _node, doc in pairs):
            problems.append(_not_kubernetes(rel, "no document has both apiVersion and kind"))
            continue
        manifests += [Manifest(rel, node.start_mark.line + 1, doc, node) for node, doc in pairs]
    return manifests, problems


_TOO_DEEP = (
    "nesting deeper than the YAML parser can read (about 500 levels without libyaml, 1,000 with it), "
    "although within --limit depth"
)


def _is_object(doc: Any) -> bool:
    return isinstance(doc, dict) and "apiVersion" in doc and "kind" in doc


# a top-level `apiVersion:` or `kind:` key (of any document), for YAML that does not parse
_OBJECT_KEY = re.compile(r"^(apiVersion|kind)\s*:", re.MULTILINE)


def _unparsed(rel: str, text: str, exc: yaml.YAMLError, named: bool) -> Diagnostic:
    """A file PyYAML cannot parse: a syntax error when it is meant as a manifest (named, or with
    a top-level apiVersion or kind key), else YAML that is not a manifest (a template whose
    directives are not YAML until rendered, say)."""
    if not named and not _OBJECT_KEY.search(text):
        return _not_kubernetes(
            rel, "it is not YAML as it stands, and has no top-level apiVersion or kind key"
        )
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    return Diagnostic("parse", "YAML-SYNTAX", "error", rel, line, f"invalid YAML: {problem}")


def _not_kubernetes(rel: str, why: str) -> Diagnostic:
    return Diagnostic(
        "parse",
        "YAML-NOT-KUBERNETES",
        "info",
        rel,
        None,
        f"not a Kubernetes manifest ({why}): not checked; name the file "
        "(migrator validate FILE) to check it as one",
    )


def _rendered(rel: str, text: str, docs: list[Any]) -> list[Manifest] | None:
    """The manifests of a file migrator rendered (transpilers/kubevirt.py `_dump`: a header
    comment, then documents joined by `---` lines); each document starts at its first line
    that is neither a comment nor blank, as the composer's start mark says. None: the text is
    not laid out that way, and is parsed instead."""
    starts = []
    expecting = True
    for number, line in enumerate(text.splitlines(), start=1):
        if line == "---":
            expecting = True
        elif expecting and line.strip() and not line.startswith("#"):
            starts.append(number)
            expecting = False
    if len(starts) != len(docs):
        return None  # not laid out as `_dump` writes: parse it
    return [
        Manifest(rel, line, doc, source=(text, index))
        for index, (line, doc) in enumerate(zip(starts, docs, strict=True))
        if doc is not None
    ]
