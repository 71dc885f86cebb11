"""The validator agent's pipeline: cheap checks first, each producing structured diagnostics.

1. parse (HCL2, YAML) - nothing else runs on a file that does not parse;
2. schema - terraform/tofu validate, or the built-in provider-schema validator; kubeconform, or
   the built-in jsonschema validator;
3. policies - the IaC guardrails of the Rego pack.
Every checker's wall time is recorded, for the report and for benchmarks/plan.py.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from agents.external_tools import (
    ToolResult,
    kubeconform,
    kubeconform_binary,
    terraform_binary,
    terraform_validate,
)
from agents.k8s_builtin import core_schema_dir, validate_manifests
from agents.k8s_manifests import load_manifests
from agents.policy_input import kubernetes_input, terraform_input
from agents.tf_builtin import validate_module
from agents.tf_module import load_module
from migrator.diagnostics import Diagnostic, count
from policies.engine import iac_diagnostics

T = TypeVar("T")


@dataclass
class ValidationReport:
    folder: str
    languages: list[str]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # checker -> seconds
    checkers: list[str] = field(default_factory=list)  # which ones spoke, in order
    notes: list[str] = field(default_factory=list)  # why a real tool was not used, etc.

    @property
    def counts(self) -> dict[str, int]:
        return count(self.diagnostics)

    def failed(self, fail_on: str = "error") -> bool:
        levels = ("error",) if fail_on == "error" else ("error", "warning")
        return any(d.severity in levels for d in self.diagnostics)

    def as_dict(self) -> dict[str, Any]:
        return {
            "folder": self.folder,
            "languages": self.languages,
            "valid": not self.failed(),
            "counts": self.counts,
            "checkers": self.checkers,
            "timings_s": {k: round(v, 4) for k, v in self.timings.items()},
            "notes": self.notes,
            "diagnostics": [d.as_dict() for d in self.diagnostics],
        }


@dataclass(frozen=True)
class ValidatorOptions:
    use_tools: bool = True  # run terraform/tofu and kubeconform when they are on PATH
    policies: bool = True


def languages_of(folder: Path) -> list[str]:
    found = []
    if any(folder.glob("*.tf")):
        found.append("terraform")
    if any(folder.glob("*.yaml")) or any(folder.glob("*.yml")):
        found.append("kubernetes")
    return found


class _Timer:
    def __init__(self, report: ValidationReport) -> None:
        self.report = report

    def run(self, checker: str, fn: Callable[[], T]) -> T:
        start = time.perf_counter()
        try:
            return fn()
        finally:
            self.report.timings[checker] = self.report.timings.get(checker, 0.0) + time.perf_counter() - start
            if checker not in self.report.checkers:
                self.report.checkers.append(checker)


def validate_folder(folder: Path, options: ValidatorOptions | None = None) -> ValidationReport:
    options = options or ValidatorOptions()
    report = ValidationReport(str(folder), languages_of(folder))
    timer = _Timer(report)
    if "terraform" in report.languages:
        _terraform(folder, report, timer, options)
    if "kubernetes" in report.languages:
        _kubernetes(folder, report, timer, options)
    report.diagnostics.sort(key=lambda d: (d.file, d.line or 0, d.checker, d.rule, d.message))
    return report


def _policies(report: ValidationReport, timer: _Timer, policy_input: dict[str, Any]) -> None:
    """The IaC guardrails; findings name a resource, which gives them their file and line."""
    lines = {r["address"]: (r["file"], r["line"]) for r in policy_input["resources"]}
    lines.update({f"{m['kind']}/{m['name']}": (m["file"], m["line"]) for m in policy_input["manifests"]})
    for d in timer.run("policy", lambda: iac_diagnostics(policy_input)):
        file, line = lines.get(d.resource, (d.file, d.line))
        report.diagnostics.append(
            Diagnostic(d.checker, d.rule, d.severity, d.file or file, d.line or line, d.message, d.resource)
        )


def _schema(
    report: ValidationReport,
    timer: _Timer,
    tool: tuple[str, Callable[[], ToolResult]] | None,
    builtin: tuple[str, Callable[[], list[Diagnostic]]],
) -> None:
    """The real tool when there is one and it reaches a verdict, else the built-in checker."""
    if tool is not None:
        result = timer.run(*tool)
        if result.ran:
            report.diagnostics += result.diagnostics
            return
        report.notes.append(result.reason + "; used the built-in validator")
    report.diagnostics += timer.run(*builtin)


def _terraform(folder: Path, report: ValidationReport, timer: _Timer, options: ValidatorOptions) -> None:
    module, problems = timer.run("parse", lambda: load_module(folder))
    report.diagnostics += problems
    if problems:
        return
    binary = terraform_binary() if options.use_tools else None
    tool = (Path(binary).name, lambda: terraform_validate(folder, binary)) if binary else None
    _schema(report, timer, tool, ("terraform-builtin", lambda: validate_module(module)))
    if options.policies:
        _policies(report, timer, terraform_input(module))


def kubeconform_locations() -> list[str]:
    """The same schemas the built-in validator uses, as kubeconform location templates."""
    crds = resources.files("agents").joinpath("data/k8s")
    return [
        f"{core_schema_dir()}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json",
        f"{crds}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
    ]


def _kubernetes(folder: Path, report: ValidationReport, timer: _Timer, options: ValidatorOptions) -> None:
    manifests, problems = timer.run("parse", lambda: load_manifests(folder))
    report.diagnostics += problems
    if problems:
        return
    binary = kubeconform_binary() if options.use_tools else None
    tool = ("kubeconform", lambda: kubeconform(folder, binary, kubeconform_locations())) if binary else None
    _schema(report, timer, tool, ("kubernetes-builtin", lambda: validate_manifests(manifests)))
    if options.policies:
        _policies(report, timer, kubernetes_input(manifests))
