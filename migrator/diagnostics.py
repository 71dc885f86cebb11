"""Structured findings from generators, validators and policies: one shape for all of them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True, order=True)
class Diagnostic:
    checker: str  # transpiler | parse | terraform | schema | kubeconform | policy | ...
    rule: str  # a stable id: TF-UNSUPPORTED-ARGUMENT, IAC-IMDSV2, ...
    severity: str  # error | warning | info
    file: str  # relative to the checked folder; "" when not about a file
    line: int | None
    message: str
    resource: str = ""  # aws_instance.shop_web_01, VirtualMachine/shop-web-01, a VM name

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnostic:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]

    def where(self) -> str:
        return f"{self.file}:{self.line}" if self.file and self.line else self.file


def count(diagnostics: list[Diagnostic]) -> dict[str, int]:
    return {s: sum(1 for d in diagnostics if d.severity == s) for s in SEVERITIES}
