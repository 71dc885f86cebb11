"""The transpiler plugin contract and its explicit registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from migrator.diagnostics import Diagnostic
from transpilers.hcl import Block
from transpilers.model import TargetOptions, WaveInput


@dataclass(frozen=True)
class OptionSpec:
    """A setting of one target that the inventory cannot tell; `name` is a TargetOptions field.

    Front ends build their inputs from these (the CLI: one --flag each, named after `name`).
    """

    name: str
    type: type[str] | type[int] | type[bool]
    default: str | int | bool | None
    help: str


@dataclass(frozen=True)
class TranspilerMeta:
    id: str  # the target name (the CLI's --target value)
    target: str  # what the output is applied to
    version: str  # bumped whenever the output for the same input changes
    language: str  # "terraform" | "kubernetes": which validators read the output
    description: str
    options: tuple[OptionSpec, ...] = ()  # the target's own settings, with their defaults
    sizing: str = "aws"  # the wave planner's sizing target (PlanParameters.target) for this target


@dataclass
class Rendered:
    files: dict[str, str]  # relative path -> content
    diagnostics: list[Diagnostic] = field(default_factory=list)  # what the transpiler could not map
    # HCL files: the blocks each was rendered from, so the validator need not re-parse a file
    # that is still byte-identical to its rendering (agents/tf_model.py)
    blocks: dict[str, list[Block]] = field(default_factory=dict)
    documents: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # YAML files, likewise


class Transpiler(Protocol):
    meta: TranspilerMeta

    def render(self, wave: WaveInput, options: TargetOptions) -> Rendered: ...
