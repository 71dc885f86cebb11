"""Golden files (fixtures/golden) and fixture workspaces shared by the CLI tests.

Regenerate every golden file with `make golden` after an intended change, and review the diff.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from tests.helpers import migrator

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures"
GOLDEN = FIXTURES / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return
    expected = path.read_text(encoding="utf-8")
    if text != expected:
        diff = "".join(
            list(difflib.unified_diff(expected.splitlines(True), text.splitlines(True), "golden", "now"))[:60]
        )
        pytest.fail(f"{name} differs from the golden file (run `make golden` if intended):\n{diff}")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def check_golden_tree(name: str, folder: Path) -> None:
    """Every file under `folder` against GOLDEN/name, and no file missing or extra."""
    produced = _files(folder)
    if UPDATE:
        shutil.rmtree(GOLDEN / name, ignore_errors=True)
    else:
        assert produced == _files(GOLDEN / name), f"{name}: other files than the golden tree"
    for rel in produced:
        check_golden(f"{name}/{rel}", (folder / rel).read_text(encoding="utf-8"))


def workspace_with(tmp_path: Path, inventory: str, flows: str) -> Path:
    assert (
        migrator("import", "inventory", str(FIXTURES / "inventories" / inventory), workspace=tmp_path).code
        == 0
    )
    result = migrator("import", "flows", str(FIXTURES / "flows" / flows), workspace=tmp_path)
    assert result.code == 0, result.stderr
    return tmp_path
