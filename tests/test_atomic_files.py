"""Files written with `-o` replace the previous file atomically: the old or the new content,
never half of one, no temporary file left behind, and an unwritable path is exit 2."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from migrator.atomic import atomic_file
from migrator.errors import ExitCode, UsageError
from tests.golden import workspace_with
from tests.helpers import assert_one_line_error, migrator, migrator_command

EXPORTS = [("inventory", "export"), ("graph", "export", "--format", "json")]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")


@pytest.mark.parametrize("command", EXPORTS, ids=["inventory", "graph"])
def test_export_replaces_the_file_and_leaves_nothing_else(
    ws: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    target = tmp_path / "out.json"
    target.write_text("previous content\n", encoding="utf-8")
    result = migrator(*command, "-o", str(target), workspace=ws)
    assert result.code == 0, result.stderr
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(
        migrator(*command, workspace=ws).stdout
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.json"]


@pytest.mark.parametrize("command", EXPORTS, ids=["inventory", "graph"])
def test_unwritable_output_is_a_one_line_usage_error(
    ws: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    missing = migrator(*command, "-o", str(tmp_path / "no" / "such" / "dir.json"), workspace=ws)
    assert_one_line_error(missing, ExitCode.USAGE, "cannot write", "No such file or directory")
    (tmp_path / "folder").mkdir()
    folder = migrator(*command, "-o", str(tmp_path / "folder"), workspace=ws)
    assert_one_line_error(folder, ExitCode.USAGE, "cannot write")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder"] and not any(
        (tmp_path / "folder").iterdir()
    )


def test_a_failure_inside_the_block_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    target.write_text("old\n", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), atomic_file(target) as fh:
        fh.write("half of the new")
        raise KeyboardInterrupt  # Ctrl-C in the middle of writing
    assert target.read_text(encoding="utf-8") == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["export.json"]
    with pytest.raises(UsageError, match="cannot write"), atomic_file(tmp_path / "none" / "x.json"):
        pass


def test_sigkill_while_writing_keeps_the_old_file(tmp_path: Path) -> None:
    target = tmp_path / "export.json"
    target.write_text("old\n", encoding="utf-8")
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from migrator.atomic import atomic_file\n"
        "with atomic_file(Path(sys.argv[1])) as fh:\n"
        "    fh.write('new ' * 100000)\n"
        "    fh.flush()\n"
        "    os.kill(os.getpid(), 9)\n"
    )
    proc = subprocess.run(
        [migrator_command()[0], "-c", script, str(target)],
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        capture_output=True,
        check=False,
    )
    assert proc.returncode == -signal.SIGKILL
    assert target.read_text(encoding="utf-8") == "old\n"
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != "export.json"]
    assert len(leftovers) == 1 and leftovers[0].startswith(".export.json.")  # hidden, never the target
