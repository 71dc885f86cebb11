"""The wave-folder swap (`migrator.atomic.replace_dir`) is one atomic step: SIGKILL before any
single call that changes the disk leaves the wave exactly old or exactly new and present, a
reader polling it never finds it missing or mixed, and `recover` removes what a kill left.
Both ways are tested: renameat2(RENAME_EXCHANGE) on this Linux machine, and the symlink flip
used where a filesystem refuses it (forced by making renameat2 answer EINVAL)."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from migrator import atomic
from migrator.atomic import recover, replace_dir, staging_path
from tests.swap_child import refuse_exchange, version_files

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO)}
OLD = {"main.tf": b"old main\n", "REPORT.md": b"old report\n", "modules/net.tf": b"old net\n"}
NEW = {"main.tf": b"new main\n", "PLAN.md": b"new plan\n", "modules/net.tf": b"new net\n"}
PROBE = "renameat2 .exchange-probe-1 .exchange-probe-2"
# The calls that rename something, for each swap (P: the process id, N: a generation number).
RENAMES = {
    ("renameat2", "folder"): [
        PROBE,
        "renameat2 .wave-01.partial-P wave-01",
        "rename .wave-01.partial-P .wave-01.trash-P",
    ],
    ("renameat2", "symlink"): [
        PROBE,
        "renameat2 .wave-01.partial-P wave-01",
        "rename .wave-01.partial-P .wave-01.trash-P",
    ],
    ("renameat2", "absent"): [PROBE, "rename .wave-01.partial-P wave-01"],
    ("symlink-flip", "symlink"): [
        PROBE,
        "rename .wave-01.partial-P .wave-01.gen-P-N",
        "symlink .wave-01.gen-P-N .wave-01.link-P",
        "replace .wave-01.link-P wave-01",
    ],
    ("symlink-flip", "absent"): [
        PROBE,
        "rename .wave-01.partial-P .wave-01.gen-P-N",
        "symlink .wave-01.gen-P-N .wave-01.link-P",
        "replace .wave-01.link-P wave-01",
    ],
    ("symlink-flip", "folder"): [
        PROBE,
        "rename .wave-01.partial-P .wave-01.gen-P-N",
        "symlink .wave-01.gen-P-N .wave-01.link-P",
        "rename wave-01 .wave-01.old-P",  # the one non-atomic step: a plain folder becomes a link
        "replace .wave-01.link-P wave-01",
    ],
}
WINDOW = "rename wave-01 .wave-01.old-P"


def tree(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def write_version(final: Path, files: dict[str, bytes]) -> None:
    staging = staging_path(final)
    for name, data in files.items():
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        (staging / name).write_bytes(data)
    replace_dir(staging, final)


@pytest.mark.parametrize("fallback", [False, True], ids=["renameat2", "symlink-flip"])
def test_a_reader_polling_the_wave_never_finds_it_missing_or_mixed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: bool
) -> None:
    if fallback:
        monkeypatch.setattr(atomic, "_rename_exchange", refuse_exchange)
    final = tmp_path / "terraform-aws" / "wave-01"
    final.parent.mkdir()
    write_version(final, version_files(0))
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-m", "tests.swap_child", "read", str(final), str(stop)],
        stdout=subprocess.PIPE,
        text=True,
        env=ENV,
        cwd=REPO,
    )
    try:
        assert reader.stdout is not None and reader.stdout.readline() == "ready\n"
        swaps = 300
        for version in range(1, swaps + 1):
            write_version(final, version_files(version))
        stop.touch()
        seen = json.loads(reader.communicate(timeout=120)[0])
    finally:
        if reader.poll() is None:
            reader.kill()
            reader.wait()
    assert seen["missing"] == 0 and seen["mixed"] == [], seen
    assert len(seen["seen"]) >= 3 and seen["seen"][-1] == swaps, seen  # it watched the swaps happen
    assert {p.name: p.read_bytes() for p in final.iterdir()} == version_files(swaps)
    assert final.is_symlink() == fallback  # each way really ran
    assert hidden(final.parent) == ([os.readlink(final)] if fallback else [])


def prepare(root: Path, layout: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A target folder whose wave-01 is OLD as a plain folder or a symlink flip made, or absent."""
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir()
    final = root / "wave-01"
    if layout != "absent":
        with monkeypatch.context() as patch:
            if layout == "symlink":
                patch.setattr(atomic, "_rename_exchange", refuse_exchange)
            write_version(final, OLD)
        assert final.is_symlink() == (layout == "symlink") and tree(final) == OLD
    return final


def swap_in_child(
    final: Path, source: Path, kill_at: int, trace: Path, fallback: bool
) -> tuple[int, list[str]]:
    """Run the swap in a child killed before call `kill_at`; its exit status and calls made
    (P for its process id, N for a generation number)."""
    args = ["swap", str(final), str(source), str(kill_at), str(trace)] + (["--fallback"] if fallback else [])
    proc = subprocess.run(
        [sys.executable, "-m", "tests.swap_child", *args], env=ENV, cwd=REPO, capture_output=True, check=False
    )
    lines = trace.read_text(encoding="utf-8").splitlines()
    assert proc.returncode in (0, -signal.SIGKILL) and lines[0].startswith("pid "), proc.stderr
    pid = lines[0].split()[1]
    return proc.returncode, [
        re.sub(rf"-{pid}(-\d+)?\b", lambda m: "-P-N" if m[1] else "-P", x) for x in lines[1:]
    ]


def visible(final: Path, layout: str) -> str:
    """Which version the wave shows: old (absent when there was none before) or new, never another."""
    if not os.path.lexists(final):
        return "absent"
    shown = tree(final)
    assert shown in (OLD, NEW), shown
    return "old" if shown == OLD else "new"


def hidden(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir() if p.name != "wave-01")


@pytest.mark.parametrize(
    ("way", "layout"),
    list(RENAMES),
    ids=["-".join(key) for key in RENAMES],
)
def test_sigkill_before_every_call_of_the_swap_leaves_the_wave_old_or_new_and_recover_cleans_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, way: str, layout: str
) -> None:
    source, root, trace = tmp_path / "new", tmp_path / "terraform-aws", tmp_path / "trace"
    for name, data in NEW.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_bytes(data)
    fallback = way == "symlink-flip"
    before = "absent" if layout == "absent" else "old"
    kill_at, shown = 0, []
    while True:
        final = prepare(root, layout, monkeypatch)
        code, calls = swap_in_child(final, source, kill_at, trace, fallback)
        if code == 0:
            break
        assert len(calls) == kill_at  # killed before call number kill_at, every earlier one made
        version = visible(final, layout)
        if version == "absent" and before == "old":
            assert calls[-1] == WINDOW, calls  # the conversion of a plain folder, and only there
            version = "old"  # what recover puts back
        shown.append(version)
        recover(root)
        assert visible(final, layout) == version, kill_at  # recover never changes what was visible
        assert hidden(root) == ([os.readlink(final)] if final.is_symlink() else []), kill_at
        with monkeypatch.context() as patch:  # and the next run's swap works
            if fallback:
                patch.setattr(atomic, "_rename_exchange", refuse_exchange)
            write_version(final, NEW)
        assert tree(final) == NEW and hidden(root) == ([os.readlink(final)] if fallback else [])
        kill_at += 1
    assert [c for c in calls if c.split()[0] in ("rename", "replace", "symlink", "renameat2")] == RENAMES[
        (way, layout)
    ]
    assert len(shown) == len(calls) and kill_at == len(calls)  # a kill before every single call
    assert shown[0] == before and shown[-1] == "new" and shown == sorted(shown, key=[before, "new"].index)
    assert visible(final, layout) == "new" and final.is_symlink() == fallback
    assert hidden(root) == ([os.readlink(final)] if fallback else [])


def test_on_this_linux_machine_the_swap_is_renameat2_exchanging_the_staging_folder_in(tmp_path: Path) -> None:
    assert atomic._libc_renameat2() is not None  # glibc has it (2.28+)
    final = tmp_path / "wave-01"
    write_version(final, OLD)
    old_inode = final.stat().st_ino
    staging = staging_path(final)
    (staging / "modules").mkdir(parents=True)
    for name, data in NEW.items():
        (staging / name).write_bytes(data)
    staging_inode = staging.stat().st_ino
    replace_dir(staging, final)
    assert not final.is_symlink() and final.stat().st_ino == staging_inode and tree(final) == NEW
    assert old_inode != staging_inode and hidden(tmp_path) == []  # the old version is deleted


def test_a_filesystem_refusing_the_exchange_gets_the_symlink_flip(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(atomic, "_rename_exchange", refuse_exchange)
    final = tmp_path / "wave-01"
    write_version(final, OLD)
    first = os.readlink(final)
    assert re.fullmatch(r"\.wave-01\.gen-\d+-\d+", first) and tree(final) == OLD
    write_version(final, NEW)
    second = os.readlink(final)
    assert second != first and tree(final) == NEW and hidden(tmp_path) == [second]
    monkeypatch.undo()  # the exchange works again (the folder moved to such a filesystem)
    write_version(final, OLD)
    assert not final.is_symlink() and tree(final) == OLD and hidden(tmp_path) == []


@pytest.mark.parametrize("fallback", [False, True], ids=["renameat2", "symlink-flip"])
def test_a_users_own_symlink_at_the_wave_is_replaced_but_what_it_leads_to_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fallback: bool
) -> None:
    if fallback:
        monkeypatch.setattr(atomic, "_rename_exchange", refuse_exchange)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "main.tf").write_bytes(b"the user's own\n")
    root = tmp_path / "terraform-aws"
    root.mkdir()
    final = root / "wave-01"
    final.symlink_to(mine, target_is_directory=True)
    write_version(final, NEW)
    assert tree(final) == NEW and tree(mine) == {"main.tf": b"the user's own\n"}
    assert hidden(root) == ([os.readlink(final)] if fallback else [])


def test_recover_removes_every_leftover_of_the_symlink_flip_but_the_generation_in_use(tmp_path: Path) -> None:
    dead = subprocess.Popen(["true"])
    dead.wait()
    gone = dead.pid
    used, stale = f".wave-01.gen-{gone}-5", f".wave-01.gen-{gone}-4"
    for name in (used, stale, f".wave-02.gen-{gone}-7", f".wave-01.partial-{gone}"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "main.tf").write_bytes(b"x\n")
    (tmp_path / "wave-01").symlink_to(used)
    (tmp_path / f".wave-01.link-{gone}").symlink_to(stale)  # made, never renamed over wave-01
    (tmp_path / f".wave-03.trash-{gone}").symlink_to(f".wave-02.gen-{gone}-7")  # an exchanged-out link
    repairs = recover(tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == [used, "wave-01"]
    assert repairs == [
        f"removed {name} left by an interrupted run"
        for name in sorted(
            [
                stale,
                f".wave-01.link-{gone}",
                f".wave-01.partial-{gone}",
                f".wave-02.gen-{gone}-7",
                f".wave-03.trash-{gone}",
            ]
        )
    ]
