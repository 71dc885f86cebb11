"""Crash-safe writes: a file or a whole folder is replaced so that at every instant the old or
the new version is complete, whatever kills the process (Ctrl-C, SIGKILL, a full disk).

Files: written to a unique temporary name beside the target, flushed to disk, then renamed over
it (rename is atomic on one filesystem); the temporary file is removed on any failure.

Folders cannot be renamed over a non-empty folder, so `replace_dir` swaps in three renames under
an exclusive lock on the parent folder:

    final -> .final.old-PID       (the old version, complete, under its aside name)
    staging -> final              (the new version, complete)
    .final.old-PID -> .final.trash-PID, then deleted (garbage from here on)

A run killed between two steps leaves names that say what they hold; `recover` (called before
a run writes, and before every swap) puts the complete version back: an aside copy whose final
folder is missing is renamed back, an aside copy beside a final folder is garbage, and staging
or trash folders of processes that are gone are removed.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from migrator.errors import UsageError
from migrator.interrupts import pid_alive, signals_held

_LEFTOVER = re.compile(r"^\.(?P<final>.+)\.(?P<kind>partial|old|trash)(?:-(?P<pid>\d+))?$")


def staging_path(final: Path) -> Path:
    """A staging folder beside `final`, private to this process (concurrent runs never share one)."""
    return final.with_name(f".{final.name}.partial-{os.getpid()}")


def replace_dir(staging: Path, final: Path) -> None:
    """Move the complete folder `staging` to `final`, replacing any previous version safely."""
    _sync_tree(staging)  # the new files are on disk before their folder becomes the final one
    aside = final.with_name(f".{final.name}.old-{os.getpid()}")
    trash = final.with_name(f".{final.name}.trash-{os.getpid()}")
    with _locked(final.parent), signals_held():  # a swap is never cut between renames
        _recover_locked(final.parent)
        if final.exists():
            final.rename(aside)
        try:
            staging.rename(final)
        except BaseException:
            if aside.exists() and not final.exists():
                aside.rename(final)  # put the old version straight back
            raise
        if aside.exists():
            aside.rename(trash)
        _fsync_dir(final.parent)
    shutil.rmtree(trash, ignore_errors=True)


def recover(root: Path) -> list[str]:
    """Repair what interrupted runs left in `root`; returns one line per repair (for logs/tests)."""
    if not root.is_dir():
        return []
    with _locked(root):
        return _recover_locked(root)


def _recover_locked(root: Path) -> list[str]:
    done: list[str] = []
    for entry in sorted(root.iterdir()):
        match = _LEFTOVER.match(entry.name)
        if match is None or not entry.is_dir():
            continue
        final = root / match["final"]
        kind, pid = match["kind"], int(match["pid"] or 0)
        if kind == "old" and not final.exists():
            # Killed after moving the old version aside, before the new one arrived: restore it.
            entry.rename(final)
            done.append(f"restored {final.name} from an interrupted replacement")
        elif kind == "old" or not pid_alive(pid):
            # An aside copy beside its final folder, or staging/trash of a process that is gone.
            shutil.rmtree(entry, ignore_errors=True)
            done.append(f"removed {entry.name} left by an interrupted run")
    if done:
        _fsync_dir(root)
    return done


@contextlib.contextmanager
def atomic_file(path: Path, encoding: str = "utf-8") -> Iterator[TextIO]:
    """Open a text file that replaces `path` only when the block completes without an exception.
    A file that cannot be written (missing folder, no permission, disk full) is a UsageError."""
    try:
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "w", encoding=encoding) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, _default_mode())  # mkstemp makes 0600; an export is an ordinary file
        tmp.replace(path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise UsageError(f"cannot write {path}: {exc.strerror}") from None
    except BaseException:  # also Ctrl-C: never leave the temporary file behind
        tmp.unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    with atomic_file(path, encoding) as handle:
        handle.write(text)


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


@contextlib.contextmanager
def _locked(folder: Path) -> Iterator[None]:
    """An exclusive lock on a folder (flock on its descriptor; released even by SIGKILL)."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _sync_tree(folder: Path) -> None:
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            fd = os.open(path, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
