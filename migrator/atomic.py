"""Crash-safe writes: a file or a whole folder is replaced so that at every instant the old or
the new version is complete and present, whatever kills the process (Ctrl-C, SIGKILL, a full
disk).

Files: written to a unique temporary name beside the target, flushed to disk, then renamed over
it (rename is atomic on one filesystem); the temporary file is removed on any failure.

Folders cannot be renamed over a non-empty folder, so `replace_dir` swaps them in one atomic
step, under an exclusive lock on the parent folder:

- Linux: `renameat2(staging, final, RENAME_EXCHANGE)` exchanges the two names at once; the old
  version, now at the staging name, is renamed `.final.trash-PID` and deleted. A first write
  (no `final` yet) is a plain rename.
- Where the filesystem refuses the exchange (EINVAL: NFS, some FUSE filesystems) or the C
  library has no renameat2 (not Linux): `final` is a symlink to a generation folder
  `.final.gen-PID-N`. The new version is renamed to a new generation, a symlink to it is made
  under the name `.final.link-PID` and renamed over `final` (a rename replaces a symlink
  atomically), then the old generation is deleted. A plain folder at `final` (written before
  this scheme, or on a filesystem that had the exchange) becomes a symlink once, and only that
  once has an instant without `final`: it is renamed `.final.old-PID` just before the symlink
  takes its place.

Which way is used is asked of the filesystem before each swap (two empty folders inside the
staging folder are exchanged). A run killed anywhere leaves names that say what they hold;
`recover` (called before a run writes, and before every swap) removes them and puts a complete
version back where one is missing: a `.old-PID` folder whose `final` is missing is renamed back
(also left by releases that renamed the old version aside), any other `.old`, every `.link`,
a generation `final` does not lead to, and staging or trash of processes that are gone are
deleted.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import fcntl
import functools
import os
import re
import shutil
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TextIO

from migrator.errors import UsageError
from migrator.interrupts import pid_alive, signals_held

_LEFTOVER = re.compile(r"^\.(?P<final>.+)\.(?P<kind>partial|old|trash|link|gen)(?:-(?P<pid>\d+))?(?:-\d+)?$")
RENAME_EXCHANGE = 2  # linux/fs.h: exchange the two names atomically (Linux 3.15, glibc 2.28)
_AT_FDCWD = -100  # paths relative to the working directory, as plain rename()
# The filesystem (or the kernel, or the C library) cannot exchange: use the symlink flip.
_UNSUPPORTED = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})


def staging_path(final: Path) -> Path:
    """A staging folder beside `final`, private to this process (concurrent runs never share one)."""
    return final.with_name(f".{final.name}.partial-{os.getpid()}")


def replace_dir(staging: Path, final: Path) -> None:
    """Move the complete folder `staging` to `final`, replacing any previous version atomically."""
    exchange = _can_exchange(staging)
    _sync_tree(staging)  # the new files are on disk before their folder becomes the final one
    with _locked(final.parent), signals_held():  # a swap is never cut by Ctrl-C half done
        _recover_locked(final.parent)
        garbage = _swap(staging, final, exchange)
        _fsync_dir(final.parent)
    for path in garbage:  # outside the lock: deleting a big folder holds up nobody
        _discard(path)


def _swap(staging: Path, final: Path, exchange: bool) -> list[Path]:
    """Put `staging` at `final` in one atomic step; returns what is garbage from then on."""
    old_generation = _generation(final)
    if exchange and not os.path.lexists(final):
        os.rename(staging, final)
        return []
    if exchange:
        _rename_exchange(staging, final)
        trash = _sibling(final, "trash")
        os.rename(staging, trash)  # the old version (or the old symlink): named as garbage
        return [trash] + ([old_generation] if old_generation else [])
    return _flip(staging, final, old_generation)


def _flip(staging: Path, final: Path, old_generation: Path | None) -> list[Path]:
    """The symlink flip: `final` -> a new generation folder, by renaming a symlink over it."""
    generation = _sibling(final, "gen", f"-{time.time_ns()}")
    link = _sibling(final, "link")
    os.rename(staging, generation)
    os.symlink(generation.name, link)  # relative: the folder can be moved or mounted elsewhere
    if os.path.isdir(final) and not os.path.islink(final):
        # A plain folder cannot be replaced by a symlink atomically: the one non-atomic step,
        # once per folder; `recover` renames the aside copy back if killed right here.
        garbage = [_sibling(final, "old")]
        os.rename(final, garbage[0])
    else:
        garbage = [old_generation] if old_generation else []
    os.replace(link, final)
    return garbage


def _sibling(final: Path, kind: str, suffix: str = "") -> Path:
    return final.with_name(f".{final.name}.{kind}-{os.getpid()}{suffix}")


def _generation(final: Path) -> Path | None:
    """The generation folder `final` leads to when it is our symlink (never a user's own link)."""
    if not os.path.islink(final):
        return None
    target = os.readlink(final)
    match = _LEFTOVER.match(target)
    if "/" in target or match is None or match["kind"] != "gen" or match["final"] != final.name:
        return None
    return final.with_name(target)


def _can_exchange(folder: Path) -> bool:
    """Whether renameat2 can exchange names on `folder`'s filesystem (tried on two empty folders)."""
    first, second = folder / ".exchange-probe-1", folder / ".exchange-probe-2"
    os.mkdir(first)
    try:
        os.mkdir(second)
        try:
            _rename_exchange(first, second)
        except OSError as exc:
            if exc.errno in _UNSUPPORTED:
                return False
            raise
        finally:
            os.rmdir(second)
    finally:
        os.rmdir(first)
    return True


def _rename_exchange(a: Path, b: Path) -> None:
    """Exchange the names `a` and `b` atomically (renameat2 with RENAME_EXCHANGE)."""
    renameat2 = _libc_renameat2()
    if renameat2 is None:
        raise OSError(errno.ENOSYS, "the C library has no renameat2", str(a))
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), RENAME_EXCHANGE) != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(a), None, str(b))


@functools.cache
def _libc_renameat2() -> Callable[..., int] | None:
    """renameat2 from the C library (glibc 2.28+), or None where there is none (not Linux)."""
    for name in (None, ctypes.util.find_library("c")):  # None: the symbols Python is linked with
        try:
            function = getattr(ctypes.CDLL(name, use_errno=True), "renameat2", None)
        except OSError:
            continue
        if function is not None:
            function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
            function.restype = ctypes.c_int
            return function
    return None


def recover(root: Path) -> list[str]:
    """Repair what interrupted runs left in `root`; returns one line per repair (for logs/tests)."""
    if not root.is_dir():
        return []
    with _locked(root):
        return _recover_locked(root)


def _recover_locked(root: Path) -> list[str]:
    """Under the lock, so no swap is half done: every leftover is garbage but an aside copy
    whose final folder is missing, and the staging or trash folder of a live process."""
    done: list[str] = []
    for entry in sorted(root.iterdir()):
        match = _LEFTOVER.match(entry.name)
        if match is None or not (entry.is_dir() or entry.is_symlink()):
            continue
        final = root / match["final"]
        kind, pid = match["kind"], int(match["pid"] or 0)
        if kind == "old" and not os.path.lexists(final):
            # Killed after moving the old version aside, before the new one arrived: restore it.
            entry.rename(final)
            done.append(f"restored {final.name} from an interrupted replacement")
        elif (
            kind in ("old", "link")
            or (kind == "gen" and _generation(final) != entry)
            or (kind in ("partial", "trash") and not pid_alive(pid))
        ):
            _discard(entry)
            done.append(f"removed {entry.name} left by an interrupted run")
    if done:
        _fsync_dir(root)
    return done


def _discard(path: Path) -> None:
    """Delete a leftover: a symlink itself (never where it leads), a file, or a whole folder."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
    else:
        shutil.rmtree(path, ignore_errors=True)


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
        if path.is_symlink():
            continue
        if path.is_dir():
            _fsync_dir(path)  # a subfolder's entries, as the folder's own below
        elif path.is_file():
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
