"""The validator's limits: what a file may cost before any parser sees it.

A 100 MB .tf file took the HCL parser two minutes and 21 GB; a 478-byte YAML alias bomb grew
past 6 GB once expanded; YAML nested 100,000 levels deep crashed the process. Each limit is
checked before (sizes) or while streaming (YAML events, HCL brackets) the input, never after a
full parse. Defaults are generous for generated code (2.5 to 4 KB of HCL per VM: a 50-VM wave
is about 200 KB); `migrator validate --limit NAME=VALUE` raises one. docs/limits.md lists them.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import yaml

from migrator.input_files import raise_limits

KIB = 1024
MIB = 1024 * KIB


@dataclass(frozen=True)
class Limits:
    file_size: int = 4 * MIB  # one .tf/.yaml file, or a file the Terraform core reads beside one, in bytes
    total_size: int = 64 * MIB  # every file of one `migrator validate` run, in bytes
    files: int = 10_000  # files in the private copy of one Terraform module and what it reads beside it
    depth: int = 100  # nesting of YAML collections, of HCL brackets and braces
    yaml_aliases: int = 100  # alias references (*name) in one YAML file
    yaml_nodes: int = 1_000_000  # YAML nodes after expanding every alias
    string_length: int = 1 * MIB  # one YAML scalar, one line of HCL, in characters

    def raised(self, specs: Sequence[str]) -> Limits:
        """`NAME=VALUE` pairs (`file-size=16MiB`, `depth=200`) applied over these limits; a bad one
        is a usage error naming every limit (the same parsing as the import commands' --limit)."""
        return raise_limits(self, specs, parse_size)


_SIZE = re.compile(r"^\s*(\d+)\s*(|k|kb|kib|m|mb|mib|g|gb|gib)\s*$", re.IGNORECASE)


def parse_size(text: str) -> int:
    match = _SIZE.match(text)
    if not match:
        raise ValueError("the value must be a whole number, optionally with KiB/MiB/GiB")
    unit = match[2].lower()[:1]
    return int(match[1]) * {"": 1, "k": KIB, "m": MIB, "g": 1024 * MIB}[unit]


class LimitExceeded(Exception):
    """`limit` names the limit (as on the command line); the message says by how much."""

    def __init__(self, limit: str, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.limit = limit
        self.line = line


# libyaml's loader when PyYAML was built with it (the PyPI wheels are), else the pure-Python one.
LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
PURE_LOADER = yaml.SafeLoader
_OPEN = (yaml.SequenceStartEvent, yaml.MappingStartEvent)
_CLOSE = (yaml.SequenceEndEvent, yaml.MappingEndEvent)
# libyaml's scanner caps nesting at 1,000 levels on its own and says so while it tokenises ahead,
# before the event stream reaches the depth check below (PyYAML 6.0.4 with libyaml 0.2.5).
_LIBYAML_NESTING = "exceeded maximum nesting depth"


def check_yaml(text: str, limits: Limits, loader: type | None = None) -> type:
    """Stream the YAML events (aliases are not expanded there) and stop at the first excess.

    Returns the loader that reads `text` within the limits: `loader`, or the pure-Python loader
    when libyaml refused a nesting that the pure one streams, so that the answer (a depth limit
    at the line where it is crossed) never depends on which PyYAML build pip installed.
    """
    loader = loader or LOADER
    try:
        _check_events(text, limits, loader)
        return loader
    except yaml.YAMLError as exc:
        if loader is PURE_LOADER or getattr(exc, "problem", None) != _LIBYAML_NESTING:
            raise
    _check_events(text, limits, PURE_LOADER)
    return PURE_LOADER


def _check_events(text: str, limits: Limits, loader: type) -> None:
    """A node's weight is 1 plus its children's, an alias weighs what its anchor weighs: the sum is
    what a consumer that walks the data (JSON encoding, schema validation) would visit."""
    weights: dict[str, int] = {}
    stack: list[tuple[str | None, int]] = []  # open collections: (anchor, weight so far)
    aliases = total = 0
    for event in yaml.parse(text, Loader=loader):
        weight = 0
        if isinstance(event, _OPEN):
            stack.append((event.anchor, 1))
            if len(stack) > limits.depth:
                raise _over("depth", f"nesting deeper than {limits.depth} levels", event)
            continue
        if isinstance(event, _CLOSE):
            anchor, weight = stack.pop()
            if anchor:
                weights[anchor] = weight
        elif isinstance(event, yaml.ScalarEvent):
            weight = 1
            if len(event.value) > limits.string_length:
                raise _over("string-length", f"a scalar longer than {limits.string_length} characters", event)
            if event.anchor:
                weights[event.anchor] = 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > limits.yaml_aliases:
                raise _over("yaml-aliases", f"more than {limits.yaml_aliases} aliases", event)
            weight = weights.get(event.anchor or "", 1)
        if stack:
            anchor, so_far = stack[-1]
            stack[-1] = (anchor, so_far + weight)
        else:
            total += weight
        if total + sum(w for _, w in stack) > limits.yaml_nodes:
            raise _over("yaml-nodes", f"more than {limits.yaml_nodes} nodes once aliases are expanded", event)


def _over(limit: str, what: str, event: yaml.Event) -> LimitExceeded:
    mark = event.start_mark
    return LimitExceeded(limit, f"{what} (limit {limit})", mark.line + 1 if mark else None)


def check_hcl(text: str, limits: Limits) -> None:
    """Bracket depth outside string literals, and line length: cheap, before the HCL parser."""
    depth = 0
    for number, line in enumerate(text.split("\n"), start=1):
        if len(line) > limits.string_length:
            raise LimitExceeded(
                "string-length",
                f"a line longer than {limits.string_length} characters (limit string-length)",
                number,
            )
        for token in _BRACKETS.findall(line):
            if token[0] == '"' or token[0] == "#" or token[:2] == "//":
                if token[0] != '"':
                    break  # the rest of the line is a comment
                continue
            depth += 1 if token in "{[(" else -1
            if depth > limits.depth:
                raise LimitExceeded(
                    "depth", f"nesting deeper than {limits.depth} levels (limit depth)", number
                )


_BRACKETS = re.compile(r'"(?:[^"\\\n]|\\.)*"?|#|//|[{}\[\]()]')
