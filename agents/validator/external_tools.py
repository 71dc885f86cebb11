"""Running real tools: kubeconform when on PATH (the Terraform core: agents/validator/tf_core.py).

Each runs on a private copy of the texts the validator read (agents/validator/sources.py), so nothing
outside the folder is read and nothing lands in the output. When the tool cannot run to a
verdict the caller falls back to the built-in checker and records why, so a report always says
which checker spoke.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from migrator.diagnostics import Diagnostic

TIMEOUT_S = 300
_NO_SCHEMA = "could not find schema for "  # kubeconform's message for a resource without a schema


@dataclass
class ToolResult:
    ran: bool  # False: the tool could not give a verdict; `reason` says why
    diagnostics: list[Diagnostic]
    reason: str = ""
    notes: list[str] = field(default_factory=list)
    judged_by: str = ""  # the tool and its version, for the report


@dataclass(frozen=True)
class Stage:
    work: Path  # the copy of the folder checked: the tool's working folder
    base: Path  # private to this run, outside the copy: for the tool's own configuration


@contextmanager
def staged(
    texts: dict[str, str], prefix: str, files: Mapping[str, bytes] | None = None, at: str = "."
) -> Iterator[Stage]:
    """A private temporary folder holding the texts (file name -> text) in `tree/<at>`, and the
    other files (path relative to the tree -> bytes) around them, as they lay in the folder
    given (agents/validator/tf_workdir.py)."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        tree = Path(tmp) / "tree"
        work = tree / at
        work.mkdir(parents=True)
        for rel, data in (files or {}).items():
            target = tree / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        for name, text in texts.items():
            (work / name).write_text(text, encoding="utf-8")
        yield Stage(work, Path(tmp))


def kubeconform_binary() -> str | None:
    return shutil.which("kubeconform")


def run_tool(
    cmd: list[str], cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1", **(env or {})}
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False
    )


def kubeconform(
    texts: dict[str, str], binary: str, schema_locations: list[str], missing: str = "error"
) -> ToolResult:
    """`kubeconform -strict` on a private copy. Never -ignore-missing-schemas: a resource without
    a schema comes back as an error and is mapped to K8S-NO-SCHEMA with the severity the built-in
    validator gives it (`missing`: --missing-schemas), so both paths agree."""
    cmd = [binary, "-strict", "-summary", "-output", "json"]
    for location in schema_locations:
        cmd += ["-schema-location", location]
    try:
        with staged(texts, "migrator-k8s-") as stage:
            result = run_tool(cmd + sorted(texts), stage.work)
        report = json.loads(result.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return ToolResult(False, [], f"kubeconform could not run: {exc}")
    found = []
    for resource in report.get("resources", []):
        if resource.get("status") in ("statusValid", "statusSkipped", "statusEmpty"):
            continue
        ref = f"{resource.get('kind', '?')}/{resource.get('name', '?')}"
        file = Path(resource.get("filename", "")).name
        if str(resource.get("msg", "")).startswith(_NO_SCHEMA):
            from agents.validator.k8s_builtin import no_schema  # the schemas it names load only when needed

            severity, message = no_schema(str(resource.get("kind")), str(resource.get("version")), missing)
            found.append(Diagnostic("kubeconform", "K8S-NO-SCHEMA", severity, file, None, message, ref))
            continue
        errors = resource.get("validationErrors") or [{"path": "", "msg": resource.get("msg", "invalid")}]
        for error in errors:
            found.append(
                Diagnostic(
                    "kubeconform",
                    "K8S-KUBECONFORM",
                    "error",
                    file,
                    None,
                    f"{error.get('path') or '/'}: {error.get('msg')}",
                    ref,
                )
            )
    return ToolResult(True, found, judged_by=f"kubeconform ({binary})")


def _slug(text: str) -> str:
    return "-".join(text.upper().replace('"', "").split())[:40]
