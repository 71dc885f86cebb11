"""The transpiler plugin contract and its explicit registry."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from migrator.diagnostics import Diagnostic
from transpilers.model import TargetOptions, WaveInput


@dataclass(frozen=True)
class OptionSpec:
    """A setting of one target that the inventory cannot tell; `name` is a TargetOptions field.

    Front ends build their inputs from these (the CLI: one --flag each, named after `name`).
    """

    name: str
    type: type[str] | type[int]
    default: str | int | None
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


class Transpiler(Protocol):
    meta: TranspilerMeta

    def render(self, wave: WaveInput, options: TargetOptions) -> Rendered: ...
