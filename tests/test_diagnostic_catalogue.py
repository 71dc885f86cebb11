"""The diagnostic catalogue (agents/validator/catalogue.py): every id the validator emits of its own is in
it, each with a proof that gives it (a fixture validated here, or a test that builds the
input), and docs/validate.md lists each one."""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from agents.validator import ValidatorOptions, tf_core, validate_folder
from agents.validator.catalogue import CATALOGUE, Entry, ids
from agents.validator.limits import Limits
from tests.golden import FIXTURES

ROOT = Path(__file__).resolve().parents[1]
# the modules whose diagnostics are the validator's own (not the agents' LLM and REFINE ids)
EMITTERS = [
    "sources.py",
    "tf_workdir.py",
    "tf_module.py",
    "k8s_manifests.py",
    "k8s_builtin.py",
    "external_tools.py",
    "__init__.py",  # the pipeline itself (agents.validator)
    "tf_builtin.py",
]
_ID = re.compile(r'"([A-Z][A-Z0-9]*(?:-[A-Z0-9]+)+|internal-error)"')


def emitted() -> set[str]:
    """Every id literal of the emitting modules, the ids built from a limit's name or a schema
    error's kind, less the names given to Terraform's own diagnostics (agents/validator/tf_core.py)."""
    found: set[str] = set()
    for name in EMITTERS:
        found |= set(_ID.findall((ROOT / "agents" / "validator" / name).read_text(encoding="utf-8")))
    core = set(_ID.findall((ROOT / "agents" / "validator" / "tf_core.py").read_text(encoding="utf-8")))
    found |= core - set(tf_core.RULES.values()) - {rule for _p, rule in tf_core._RULE_PATTERNS}
    found.discard("ADDITIONAL-PROPERTY")  # a suffix: K8S-SCHEMA-<kind>, below
    builtin = (ROOT / "agents" / "validator" / "k8s_builtin.py").read_text(encoding="utf-8")
    found |= {f"K8S-SCHEMA-{kind}" for kind in re.findall(r'return "([A-Z-]+)", ', builtin)}
    found |= {"LIMIT-" + f.name.replace("_", "-").upper() for f in fields(Limits) if f.name != "files"}
    return found


def test_every_id_the_validator_emits_is_catalogued_once() -> None:
    rules = [e.rule for e in CATALOGUE]
    assert len(rules) == len(set(rules))
    assert emitted() == ids()


@pytest.mark.parametrize("entry", [e for e in CATALOGUE if e.fixture], ids=lambda e: e.rule)
def test_each_fixture_gives_its_id(entry: Entry, monkeypatch: pytest.MonkeyPatch) -> None:
    if entry.without_core:  # a core that cannot load: the built-in validator judges
        broken = ("terraform", [sys.executable, "-c", "raise SystemExit(3)"])
        monkeypatch.setattr(tf_core, "core_command", lambda use_tools: broken)
    report = validate_folder(FIXTURES / entry.proof, ValidatorOptions(use_tools=False, policies=False))
    found = {(d.rule, d.severity) for d in report.diagnostics}
    assert any((entry.rule, severity) in found for severity in entry.severity.split("/")), found


@pytest.mark.parametrize("entry", [e for e in CATALOGUE if not e.fixture], ids=lambda e: e.rule)
def test_each_test_proof_exists_and_asserts_its_id(entry: Entry) -> None:
    path, _, name = entry.proof.partition("::")
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    (function,) = [n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == name]
    assert f'"{entry.rule}"' in (
        ast.get_source_segment((ROOT / path).read_text(encoding="utf-8"), function) or ""
    )


def test_docs_list_every_id() -> None:
    text = (ROOT / "docs" / "validate.md").read_text(encoding="utf-8")
    assert [rule for rule in sorted(ids()) if f"`{rule}`" not in text] == []
