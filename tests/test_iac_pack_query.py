"""The IaC guardrails over an input with Terraform resources run as one query for the whole pack,
with the library's resources indexed by type once per query (policies/registry.py
`_pack_findings`, policies/lib/common.rego `_resources_by_type`). The reference is the route
before: one query per guardrail on the library as it was (kept verbatim in
fixtures/policies/reference/iac-lib/), which scanned every resource per `lib.resources` call.
Both must give the same findings on every IaC fixture, the golden waves of all five targets, the
broken and foreign IaC, and mutated waves."""

from __future__ import annotations

import copy
import json
from functools import cache
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from regopy import Interpreter
from regopy.interpreter import Bundle

import agents.validator as validator
from agents.validator import ValidatorOptions, validate_folder
from policies import registry
from policies.registry import fixtures, policies, query_value, scoped_findings, set_input

ROOT = Path(__file__).resolve().parents[1]
REFERENCE_LIB = ROOT / "fixtures" / "policies" / "reference" / "iac-lib"
FOLDERS = ("fixtures/golden/iac", "fixtures/broken-iac", "fixtures/foreign-iac")


@cache
def _reference() -> tuple[Interpreter, dict[str, Bundle]]:
    rego = Interpreter()
    for f in sorted(REFERENCE_LIB.glob("*.rego")):
        rego.add_module(f"lib/{f.name}", f.read_text(encoding="utf-8"))
    for p in policies("iac"):
        rego.add_module(p.file, p.text)
    return rego, {p.name: rego.build(f"data.{p.package}.findings") for p in policies("iac")}


def _reference_findings(policy_input: dict[str, Any]) -> dict[str, list[Any]]:
    rego, bundles = _reference()
    set_input(rego, policy_input)
    return {name: list(query_value(rego, name, bundle) or []) for name, bundle in bundles.items()}


def _canonical(found: dict[str, list[Any]]) -> dict[str, list[str]]:
    return {name: sorted(json.dumps(f, sort_keys=True) for f in value) for name, value in found.items()}


def _folders() -> list[Path]:
    """Every folder holding Terraform or Kubernetes files under the IaC fixture trees."""
    found = set()
    for top in FOLDERS:
        for f in (ROOT / top).rglob("*"):
            if f.suffix in {".tf", ".yaml", ".yml", ".json"} and f.is_file():
                found.add(f.parent)
    return sorted(found)


@cache
def _documents() -> tuple[dict[str, Any], ...]:
    """The guardrails' inputs as the validator builds them from every fixture folder."""
    captured: list[dict[str, Any]] = []
    real = validator.iac_diagnostics

    def capture(document: dict[str, Any], scopes: tuple[str, ...] | None = None) -> Any:
        captured.append(json.loads(json.dumps(document, default=str)))
        return real(document, scopes)

    with mock.patch.object(validator, "iac_diagnostics", capture):
        for folder in _folders():
            validate_folder(folder, ValidatorOptions(use_tools=False, profile="any"))
    return tuple(captured)


def _mutations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """Waves a guardrail should catch: no tags, IMDSv1, unencrypted, reordered, and hostile types."""
    out = []
    for change in ("untagged", "imdsv1", "unencrypted", "reversed", "hostile"):
        doc = copy.deepcopy(document)
        for r in doc["resources"]:
            config = r["config"]
            if change == "untagged":
                config.pop("tags", None)
                config.pop("labels", None)
            elif change == "imdsv1":
                config["metadata_options"] = [{"http_tokens": "optional"}]
            elif change == "unencrypted":
                config["encrypted"] = False
                config["password"] = "hunter2"
        if change == "reversed":
            doc["resources"].reverse()
        if change == "hostile" and doc["resources"]:
            first = doc["resources"][0]
            doc["resources"] += [{**first, "type": 7}, {**first, "type": {"a": 1}}, {"address": "x"}]
        out.append(doc)
    return out


def test_the_fixture_trees_give_inputs_with_resources_and_manifests() -> None:
    documents = _documents()
    assert sum(1 for d in documents if d["resources"]) >= 15
    assert sum(1 for d in documents if d["manifests"]) >= 3


def test_policy_fixtures_give_the_reference_findings() -> None:
    compared = 0
    for p in policies("iac"):
        for case in (fixtures(p.id) or {}).values():
            cases = case if isinstance(case, list) else [case]
            for c in cases:
                if not isinstance(c, dict) or "input" not in c:
                    continue
                assert _canonical(scoped_findings("iac", c["input"])) == _canonical(
                    _reference_findings(c["input"])
                ), p.id
                compared += 1
    assert compared >= 2 * len(policies("iac"))


@pytest.mark.parametrize("mutate", [False, True])
def test_fixture_folders_and_mutated_waves_give_the_reference_findings(mutate: bool) -> None:
    documents = list(_documents())
    if mutate:
        documents = [m for d in documents if d["resources"] for m in _mutations(d)]
    found_any = 0
    for document in documents:
        mine = _canonical(scoped_findings("iac", document))
        assert mine == _canonical(_reference_findings(document)), document["resources"][:1]
        found_any += sum(map(len, mine.values()))
    assert found_any > 0  # the comparison covers findings, not only empty answers


def test_a_wave_with_resources_takes_the_one_query_route() -> None:
    document = next(d for d in _documents() if d["resources"])
    with mock.patch.object(registry, "_findings_bundles", side_effect=AssertionError("per policy")):
        assert set(scoped_findings("iac", document)) == {p.name for p in policies("iac")}
