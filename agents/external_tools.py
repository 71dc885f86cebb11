"""The real tools, used when they are on PATH: terraform (or tofu) validate and kubeconform.

Each runs on a temporary copy of the folder so `.terraform/` never lands in the output. When
the tool cannot run to a verdict (no provider download here, for instance) the caller falls
back to the built-in checker and records why, so a report always says which checker spoke.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from migrator.diagnostics import Diagnostic

TIMEOUT_S = 300


@dataclass
class ToolResult:
    ran: bool  # False: the tool could not give a verdict; `reason` says why
    diagnostics: list[Diagnostic]
    reason: str = ""


def terraform_binary() -> str | None:
    return shutil.which("terraform") or shutil.which("tofu")


def kubeconform_binary() -> str | None:
    return shutil.which("kubeconform")


def _run(cmd: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TF_IN_AUTOMATION": "1", "CHECKPOINT_DISABLE": "1"}
    return subprocess.run(
        cmd, cwd=cwd, capture_output=True, text=True, timeout=TIMEOUT_S, env=env, check=False
    )


def terraform_validate(folder: Path, binary: str) -> ToolResult:
    name = Path(binary).name
    with tempfile.TemporaryDirectory(prefix="migrator-tf-") as tmp:
        work = Path(tmp) / "module"
        shutil.copytree(folder, work, ignore=shutil.ignore_patterns(".terraform", "*.tfstate*"))
        try:
            init = _run([binary, "init", "-backend=false", "-input=false", "-no-color"], work)
            if init.returncode != 0:
                first = next((line for line in init.stderr.splitlines() if line.strip()), "init failed")
                return ToolResult(False, [], f"{name} init failed: {first.strip()[:200]}")
            result = _run([binary, "validate", "-json", "-no-color"], work)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return ToolResult(False, [], f"{name} could not run: {exc}")
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        return ToolResult(False, [], f"{name} validate printed no JSON")
    found = []
    for d in report.get("diagnostics", []):
        where = d.get("range") or {}
        message = d.get("summary", "")
        if d.get("detail"):
            message += f": {d['detail']}"
        found.append(
            Diagnostic(
                name,
                "TF-" + _slug(d.get("summary", "validate")),
                d.get("severity", "error"),
                Path(where.get("filename", "")).name,
                (where.get("start") or {}).get("line"),
                message,
            )
        )
    return ToolResult(True, found)


def kubeconform(folder: Path, binary: str, schema_locations: list[str]) -> ToolResult:
    files = sorted(str(p) for p in [*folder.glob("*.yaml"), *folder.glob("*.yml")])
    cmd = [binary, "-strict", "-summary", "-output", "json"]
    for location in schema_locations:
        cmd += ["-schema-location", location]
    try:
        result = _run(cmd + files, folder)
        report = json.loads(result.stdout)
    except (OSError, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
        return ToolResult(False, [], f"kubeconform could not run: {exc}")
    found = []
    for resource in report.get("resources", []):
        if resource.get("status") in ("statusValid", "statusSkipped", "statusEmpty"):
            continue
        ref = f"{resource.get('kind', '?')}/{resource.get('name', '?')}"
        errors = resource.get("validationErrors") or [{"path": "", "msg": resource.get("msg", "invalid")}]
        for error in errors:
            found.append(
                Diagnostic(
                    "kubeconform",
                    "K8S-KUBECONFORM",
                    "error",
                    Path(resource.get("filename", "")).name,
                    None,
                    f"{error.get('path') or '/'}: {error.get('msg')}",
                    ref,
                )
            )
    return ToolResult(True, found)


def _slug(text: str) -> str:
    return "-".join(text.upper().replace('"', "").split())[:40]
