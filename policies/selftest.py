"""`migrator policies test`: every policy against its pass and fail fixtures.

A fixture file policies/fixtures/<ID>.json holds {"pass": {"input": ...}, "fail": {"input": ...,
"expect": [names]}}: the pass input must give no finding of that policy, the fail input exactly
the named VMs (source) or resources (iac)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from policies.registry import Policy, fixtures, interpreter, policies, query


@dataclass
class FixtureResult:
    policy: str
    case: str  # pass | fail
    ok: bool
    detail: str


def subjects(policy: Policy, policy_input: dict[str, Any]) -> set[str]:
    rego = interpreter(policy.family)
    rego.set_input_term(json.dumps(policy_input))
    package = policy.package.rsplit(".", 1)[1]
    result = query(rego, f"data.migrator.{policy.family}").get(package) or {}
    key = "vm" if policy.family == "source" else "resource"
    return {str(f[key]) for f in result.get("findings") or []}


def run_fixtures() -> list[FixtureResult]:
    results = []
    for policy in policies():
        data = fixtures(policy.id)
        if data is None:
            results.append(
                FixtureResult(policy.id, "fixtures", False, f"missing policies/fixtures/{policy.id}.json")
            )
            continue
        found = subjects(policy, data["pass"]["input"])
        results.append(
            FixtureResult(
                policy.id, "pass", not found, "no findings" if not found else f"unexpected: {sorted(found)}"
            )
        )
        expected = set(data["fail"]["expect"])
        found = subjects(policy, data["fail"]["input"])
        ok = found == expected and bool(expected)
        results.append(
            FixtureResult(policy.id, "fail", ok, f"expected {sorted(expected)}, got {sorted(found)}")
        )
    return results
