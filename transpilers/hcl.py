"""A small HCL writer. Values are typed so inventory text can only ever become a quoted string.

`Expr` is the one way to write an expression (a reference or function call) and is built only
from identifiers the transpiler made; `str` values are always escaped literals. Output follows
`terraform fmt` layout: two-space indent, `=` aligned across consecutive one-line attributes.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Union

from transpilers.escape import hcl_string, one_line


@dataclass(frozen=True)
class Expr:
    text: str


@dataclass
class Block:
    type: str
    labels: Sequence[str] = ()
    body: list[tuple[str, Value]] = field(default_factory=list)
    comment: str | None = None

    def set(self, key: str, value: Value) -> Block:
        self.body.append((key, value))
        return self


Value = Union[str, int, float, bool, Expr, list["Value"], dict[str, "Value"], Block]  # noqa: UP007 (recursive alias)

_IDENT_KEY = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")


def is_identifier(key: str) -> bool:
    """A key written bare (else it is written as a quoted string)."""
    return _IDENT_KEY.match(key) is not None


def _key(key: str) -> str:
    return key if is_identifier(key) else hcl_string(key)


def _value(value: Value, indent: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, Expr):
        return value.text
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list):
        items = [_value(v, indent + "  ") for v in value]
        flat = "[" + ", ".join(items) + "]"
        if len(flat) + len(indent) <= 100 and "\n" not in flat:
            return flat
        inner = indent + "  "
        return "[\n" + "".join(f"{inner}{item},\n" for item in items) + indent + "]"
    if isinstance(value, dict):
        if not value:
            return "{}"
        inner = indent + "  "
        keys = {k: _key(k) for k in value}
        width = max(len(k) for k in keys.values())
        lines = [f"{inner}{keys[k].ljust(width)} = {_value(v, inner)}\n" for k, v in value.items()]
        return "{\n" + "".join(lines) + indent + "}"
    raise TypeError(f"cannot write {type(value).__name__} as an HCL value")


def render_block(block: Block, indent: str = "") -> str:
    head = " ".join([block.type, *(hcl_string(label) for label in block.labels)])
    out = []
    if block.comment:
        out.append(f"{indent}# {one_line(block.comment)}\n")
    out.append(f"{indent}{head} {{\n")
    inner = indent + "  "
    run: list[tuple[str, str]] = []  # consecutive one-line attributes, aligned together

    def flush() -> None:
        if run:
            width = max(len(k) for k, _ in run)
            out.extend(f"{inner}{k.ljust(width)} = {v}\n" for k, v in run)
            run.clear()

    previous_was_block = False
    for key, value in block.body:
        if isinstance(value, Block):
            flush()
            if len(out) > 1:
                out.append("\n")
            out.append(render_block(value, inner))
            previous_was_block = True
            continue
        text = _value(value, inner)
        if previous_was_block:
            out.append("\n")
            previous_was_block = False
        if "\n" in text:
            flush()
            out.append(f"{inner}{_key(key)} = {text}\n")
        else:
            run.append((_key(key), text))
    flush()
    out.append(f"{indent}}}\n")
    return "".join(out)


def render(blocks: Sequence[Block], header: str | None = None) -> str:
    parts = [f"# {one_line(header)}\n\n"] if header else []
    parts.append("\n".join(render_block(b) for b in blocks))
    return "".join(parts)


def terraform_versions(provider: str, source: str, version: str) -> Block:
    """The root module's `terraform` block: Terraform >= 1.5 and the one provider it needs."""
    required: dict[str, Value] = {"source": source, "version": version}
    providers = Block("required_providers").set(provider, required)
    return Block("terraform").set("required_version", ">= 1.5").set("required_providers", providers)


def variable(name: str, type_: str, description: str, default: Value | None = None) -> Block:
    """An input variable of the root module (`default` None: the user must set it)."""
    block = Block("variable", [name]).set("type", Expr(type_)).set("description", description)
    if default is not None:
        block.set("default", default)
    return block
