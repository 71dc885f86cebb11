"""The python-hcl2 parse of an HCL file migrator rendered, taken from the transpiler's blocks
instead of re-parsing the text (the largest cost of validating a large wave; agents/validator/known.py
says when it may be used).

`hcl2_document` builds exactly the value `hcl2.loads` returns for `transpilers.hcl.render` of the
same blocks (tests/test_known_parse.py compares the two over synthetic and hostile waves). A
value shape this module does not mirror raises `Unmirrored`, and the file is parsed for real.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from transpilers.escape import hcl_string
from transpilers.hcl import Block, Expr, Value, is_identifier


class Unmirrored(Exception):
    """A value whose python-hcl2 form this module does not reproduce: parse the text instead."""


def hcl2_document(blocks: Sequence[Block]) -> dict[str, Any]:
    """Top-level blocks grouped by type in order of first appearance, as python-hcl2 does."""
    out: dict[str, Any] = {}
    for block in blocks:
        out.setdefault(block.type, []).append(_labelled(block))
    return out


def _labelled(block: Block) -> dict[str, Any]:
    node: dict[str, Any] = _body(block)
    for label in reversed(block.labels):
        node = {hcl_string(label): node}
    return node


def _body(block: Block) -> dict[str, Any]:
    out: dict[str, Any] = {}
    nested: set[str] = set()
    for key, value in block.body:
        if not is_identifier(key):
            raise Unmirrored(f"argument name {key!r}")
        if isinstance(value, Block):
            if value.labels or (key in out and key not in nested):
                raise Unmirrored(f"nested block {key!r}")
            nested.add(key)
            out.setdefault(key, []).append(_body(value))
            continue
        if key in out:
            raise Unmirrored(f"duplicate argument {key!r}")
        out[key] = _value(value)
    out["__is_block__"] = True
    return out


def _value(value: Value) -> Any:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, Expr):
        return _expression(value.text)
    if isinstance(value, str):
        return hcl_string(value)
    if isinstance(value, list):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if not is_identifier(key):
                raise Unmirrored(f"object key {key!r}")
            out[key] = _value(item)
        return out
    raise Unmirrored(type(value).__name__)


_KEYWORDS: dict[str, Any] = {"null": None, "true": True, "false": False}


def _expression(text: str) -> Any:
    """A bare name (`string`, a keyword) comes back as itself, anything else as `${...}`."""
    if is_identifier(text):
        return _KEYWORDS.get(text, text)
    if not _plain(text):
        raise Unmirrored(f"expression {text!r}")
    return "${" + text + "}"


def _plain(text: str) -> bool:
    """An expression python-hcl2 writes back as it was written: references, indexes and calls
    whose string arguments need no escapes (what the transpilers emit)."""
    return "\\" not in text and "${" not in text and "%{" not in text and "\n" not in text
