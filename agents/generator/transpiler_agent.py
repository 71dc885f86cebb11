"""The transpiler agent: generate a wave, validate it, hand the diagnostics to a fixer, repeat.

It stops when the output is clean, when the attempts run out, or as soon as a round ends with the
same diagnostics as an earlier one (a fixer going in circles). Output is written to a staging
folder and moved into place only at the end, so an interrupted run never leaves a half-written
wave behind; a wave that is not clean is still written, with status "needs-human" in its report.
"""

from __future__ import annotations

import hashlib
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from agents.generator.fixers import DeterministicFixer, Fixer
from agents.validator import ValidationReport, ValidatorOptions, validate_folder
from agents.validator.known import known_files
from migrator.diagnostics import Diagnostic
from transpilers.base import Transpiler
from transpilers.model import TargetOptions, WaveInput

DEFAULT_ATTEMPTS = 3
CLEAN, NEEDS_HUMAN = "clean", "needs-human"


@dataclass
class AgentResult:
    wave: int
    status: str
    attempts: int
    files: dict[str, str]  # path -> content, as written
    report: ValidationReport
    transpiler_diagnostics: list[Diagnostic] = field(default_factory=list)
    history: list[dict[str, int]] = field(default_factory=list)  # counts per attempt
    render_seconds: float = 0.0  # the transpiler's own time (the validator's is in report.timings)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return self.transpiler_diagnostics + self.report.diagnostics

    def digests(self) -> dict[str, str]:
        return {p: hashlib.sha256(t.encode("utf-8")).hexdigest() for p, t in sorted(self.files.items())}


def _write(folder: Path, files: dict[str, str]) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")


def _signature(diagnostics: list[Diagnostic]) -> frozenset[tuple[str, str, str, str]]:
    return frozenset((d.rule, d.file, d.resource, d.message) for d in diagnostics if d.severity == "error")


def run_wave(
    transpiler: Transpiler,
    wave: WaveInput,
    options: TargetOptions,
    staging: Path,
    fixer: Fixer | None = None,
    max_attempts: int = DEFAULT_ATTEMPTS,
    validator: ValidatorOptions | None = None,
) -> AgentResult:
    fixer = fixer or DeterministicFixer()
    started = time.perf_counter()
    rendered = transpiler.render(wave, options)
    render_seconds = time.perf_counter() - started
    files = rendered.files
    known = known_files(
        files, rendered.blocks, rendered.documents
    )  # used per file while it is still as rendered
    seen: set[frozenset[tuple[str, str, str, str]]] = set()
    history: list[dict[str, int]] = []
    attempt = 0
    while True:
        attempt += 1
        _write(staging, files)
        report = validate_folder(staging, validator, known=known)
        history.append(report.counts)
        errors = [d for d in report.diagnostics if d.severity == "error"]
        signature = _signature(errors)
        if not errors or attempt >= max_attempts or signature in seen:
            break
        seen.add(signature)
        proposal = fixer.fix(files, errors)
        if proposal is None:
            break
        files = proposal
    blocking = any(d.severity == "error" for d in rendered.diagnostics) or report.failed()
    return AgentResult(
        wave.number,
        NEEDS_HUMAN if blocking else CLEAN,
        attempt,
        files,
        report,
        list(rendered.diagnostics),
        history,
        render_seconds,
    )
