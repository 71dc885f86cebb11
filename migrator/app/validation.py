"""`validate`: the validator pipeline over any folder of Terraform or Kubernetes YAML."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from agents.validator.k8s_manifests import MISSING_SCHEMAS
from agents.validator.limits import Limits
from agents.validator.profile import CHOICES as PROFILES
from agents.validator.sources import Budget, code_folders, languages_of
from agents.validator.tf_core import warm_up
from migrator.diagnostics import Diagnostic
from migrator.errors import ChecksFailed, InputFileError

if TYPE_CHECKING:
    from agents.validator import ValidationReport

FAIL_LEVELS = ("error", "warning")


@dataclass(frozen=True)
class ValidateRequest:
    directory: Path
    fail_on: str = "error"  # the level that fails the run
    use_tools: bool = True  # terraform/tofu and kubeconform when on PATH
    limits: Sequence[str] = ()  # raised limits, NAME=VALUE (docs/limits.md)
    profile: str = "auto"  # whose code the guardrails judge: auto (per file), generated or any
    missing_schemas: str = "error"  # a manifest without a schema: error or warning (docs/validate.md)


@dataclass(frozen=True)
class ValidateResult:
    fail_on: str
    reports: list[ValidationReport]

    @property
    def failing(self) -> list[str]:
        return [r.folder for r in self.reports if r.failed(self.fail_on)]

    def as_dict(self) -> dict[str, object]:
        return {"fail_on": self.fail_on, "reports": [r.as_dict() for r in self.reports]}

    def failure(self) -> ChecksFailed | None:
        """The error a front end raises when a folder fails at the chosen level."""
        if not self.failing:
            return None
        return ChecksFailed(
            f"{len(self.failing)} of {len(self.reports)} folder(s) fail at level {self.fail_on}: "
            f"{', '.join(self.failing)}"
        )


def validate_tree(request: ValidateRequest) -> ValidateResult:
    """Validate every code folder under the directory with one size budget for the whole run."""
    if request.fail_on not in FAIL_LEVELS:
        raise InputFileError(f"{{fail_on}} {request.fail_on!r}: use error or warning", field="fail_on")
    for name, value, choices in (
        ("profile", request.profile, PROFILES),
        ("missing_schemas", request.missing_schemas, MISSING_SCHEMAS),
    ):
        if value not in choices:
            raise InputFileError(f"{{{name}}} {value!r}: use {' or '.join(choices)}", field=name)
    limits = Limits().raised(request.limits)  # a bad NAME=VALUE: UsageError, exit 2
    directory = request.directory
    if directory.is_file() or directory.is_symlink():
        return _named_file(request, limits)
    if not directory.is_dir():
        raise InputFileError(f"{directory}: not a folder")
    try:
        folders, outside = code_folders(directory)
    except OSError as exc:
        raise InputFileError(f"{directory}: cannot be read: {exc}") from None
    if not folders and not outside:
        raise InputFileError(f"{directory}: no .tf, .yaml or .yml files found")
    if any("terraform" in languages_of(f) for f in folders):
        warm_up(request.use_tools)  # the core starts while the validator loads and parses
    from agents.validator import ValidatorOptions, validate_folder  # after the warm-up started

    options = ValidatorOptions(
        use_tools=request.use_tools,
        limits=limits,
        profile=request.profile,
        missing_schemas=request.missing_schemas,
    )
    budget = Budget(limits.total_size)
    reports = [_outside(link, directory) for link in outside]
    reports += [validate_folder(f, options, root=directory, budget=budget) for f in folders]
    return ValidateResult(request.fail_on, reports)


def _named_file(request: ValidateRequest, limits: Limits) -> ValidateResult:
    """`validate FILE`: a YAML file the user names is checked as a Kubernetes manifest whatever
    it holds; Terraform validates a module, which is a folder."""
    path = request.directory
    if not path.name.endswith((".yaml", ".yml")):
        raise InputFileError(
            f"{path}: name a folder, or a .yaml/.yml file to check as a Kubernetes manifest "
            "(Terraform validates a module, which is a folder)"
        )
    from agents.validator import ValidatorOptions, validate_folder

    options = ValidatorOptions(
        use_tools=request.use_tools,
        limits=limits,
        profile=request.profile,
        missing_schemas=request.missing_schemas,
        named=frozenset({path.name}),
    )
    report = validate_folder(path.parent, options, budget=Budget(limits.total_size))
    report.folder = str(path)
    return ValidateResult(request.fail_on, [report])


def _outside(link: Path, root: Path) -> ValidationReport:
    """A symlinked folder that leaves the folder given: reported, never entered."""
    from agents.validator import ValidationReport

    report = ValidationReport(str(link), [])
    report.diagnostics.append(
        Diagnostic(
            "files", "PATH-OUTSIDE-FOLDER", "error", link.name, None, f"not read: it leads outside {root}"
        )
    )
    return report
