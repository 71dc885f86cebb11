"""Child processes for tests/test_atomic_swap.py.

`python -m tests.swap_child swap FINAL SOURCE KILL_AT TRACE [--fallback]` copies SOURCE to a
staging folder and swaps it in with `replace_dir`, counting every call that changes the disk
(rename, replace, symlink, mkdir, unlink, rmdir, fsync, renameat2) and killing itself with
SIGKILL right before call number KILL_AT (counted from 0; a number past the last call lets the
swap finish). TRACE gets the process id, then each call, one line each, before it runs.
`--fallback` makes renameat2 answer EINVAL, as a filesystem without RENAME_EXCHANGE does.

`python -m tests.swap_child read FINAL STOP` reads FINAL in a tight loop until the file STOP
exists (and once more after that), then prints what it saw as JSON: how often FINAL was
missing, listings that were not exactly one version (see `version_files`), the versions seen.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from migrator import atomic

STEPS = ("rename", "replace", "symlink", "mkdir", "unlink", "rmdir", "fsync")


def version_files(version: int) -> dict[str, bytes]:
    """The files of version N of a wave in the reader test: each names its version."""
    return {name: f"{name} of version {version}\n".encode() * 50 for name in ("REPORT.md", "a.tf", "b.tf")}


def refuse_exchange(a: Path, b: Path) -> None:
    raise OSError(errno.EINVAL, "RENAME_EXCHANGE not supported here (a test)", str(a), None, str(b))


def _label(name: str, args: tuple[Any, ...]) -> str:
    parts = [name]
    for arg in args:
        if isinstance(arg, int):  # a file descriptor (fsync)
            continue
        parts.append(Path(os.fsdecode(arg)).name)
    return " ".join(parts)


def _install_steps(kill_at: int, trace_fd: int) -> None:
    count = [0]

    def wrap(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def step(*args: Any, **kwargs: Any) -> Any:
            if count[0] == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            count[0] += 1
            os.write(trace_fd, (_label(name, args) + "\n").encode())
            return real(*args, **kwargs)

        return step

    for name in STEPS:
        setattr(os, name, wrap(name, getattr(os, name)))
    atomic._rename_exchange = wrap("renameat2", atomic._rename_exchange)


def swap(final: Path, source: Path, kill_at: int, trace: Path, fallback: bool) -> None:
    staging = atomic.staging_path(final)
    shutil.copytree(source, staging)
    if fallback:
        atomic._rename_exchange = refuse_exchange
    trace_fd = os.open(trace, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o644)
    os.write(trace_fd, f"pid {os.getpid()}\n".encode())
    _install_steps(kill_at, trace_fd)
    atomic.replace_dir(staging, final)


def _snapshot(final: Path) -> dict[str, bytes] | None:
    """FINAL's files read through one descriptor, or None when a swap replaced the folder
    meanwhile (what was read is then no longer at FINAL, maybe half deleted: not a version).
    A FileNotFoundError means FINAL itself was missing."""
    fd = os.open(final, os.O_RDONLY | os.O_DIRECTORY)
    try:
        files: dict[str, bytes] | None = {}
        try:
            for name in os.listdir(fd):
                file_fd = os.open(name, os.O_RDONLY, dir_fd=fd)
                with os.fdopen(file_fd, "rb") as handle:
                    files[name] = handle.read()  # type: ignore[index]
        except FileNotFoundError:
            files = None  # a file vanished: the folder is being deleted, or broken (see below)
        same = os.stat(final).st_ino == os.fstat(fd).st_ino
    finally:
        os.close(fd)
    if not same:
        return None
    return {} if files is None else files  # still FINAL: a vanished file is a broken version


def read(final: Path, stop: Path) -> None:
    missing, mixed, seen, reads = 0, [], set(), 0
    print("ready", flush=True)
    done = False
    while not done:
        done = stop.exists()  # one more read after the last swap
        try:
            files = _snapshot(final)
        except FileNotFoundError:  # FINAL itself
            missing += 1
            continue
        if files is None:
            continue
        reads += 1
        version = int(files.get("a.tf", b"a.tf of version -1").split(b"\n")[0].rsplit(b" ", 1)[1])
        if files != version_files(version):
            mixed.append(sorted(files))
        seen.add(version)
    print(json.dumps({"missing": missing, "mixed": mixed[:5], "seen": sorted(seen), "reads": reads}))


def main(argv: list[str]) -> None:
    if argv[0] == "swap":
        swap(Path(argv[1]), Path(argv[2]), int(argv[3]), Path(argv[4]), "--fallback" in argv)
    else:
        read(Path(argv[1]), Path(argv[2]))


if __name__ == "__main__":
    main(sys.argv[1:])
