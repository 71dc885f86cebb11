"""The files of one folder, read once, safely: only what lies inside the folder given, only
regular files, never more than the limits allow. Every checker reads these texts, never the disk
again (the real tools get a private copy), so what was checked is what was read.

Besides the code itself, Terraform's core reads the files a module keeps beside it (`file()`,
`templatefile()`, local module sources): `read_tree` reads those for its private copy under the
same rules, and a file read for two folders of one run is read and counted once.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from agents.validator.limits import Limits
from migrator.diagnostics import Diagnostic

SUFFIXES = {"terraform": (".tf",), "kubernetes": (".yaml", ".yml")}  # the code files read as texts
# what makes a folder hold code: Terraform also reads JSON configuration (`.tf.json`), which the
# core judges from the private copy (agents/validator/tf_workdir.py) and python-hcl2 does not read
MARKERS = {"terraform": (".tf", ".tf.json"), "kubernetes": (".yaml", ".yml")}


@dataclass
class Budget:
    """The bytes one run may still read (limit total-size), shared by every folder of the run,
    and what it has read (resolved path -> bytes): a file two folders need is read once. The
    files beside the code (`read_tree`) have a total-size of their own, so that a big folder of
    other files can never leave the code of a later folder unread."""

    left: int
    read: dict[Path, bytes] = field(default_factory=dict)
    beside: int = -1  # what the files beside the code may still take (-1: as much as `left`)

    def __post_init__(self) -> None:
        if self.beside < 0:
            self.beside = self.left


@dataclass
class Sources:
    texts: dict[str, str] = field(default_factory=dict)  # file name -> text
    problems: list[Diagnostic] = field(default_factory=list)


def inside(path: Path, root: Path) -> bool:
    """Whether the path, every symlink resolved, stays under root (itself resolved)."""
    try:
        return path.resolve(strict=True).is_relative_to(root.resolve(strict=True))
    except (OSError, RuntimeError):  # dangling link, loop
        return False


def read_sources(
    folder: Path, language: str, root: Path, limits: Limits, budget: Budget, only: Collection[str] = ()
) -> Sources:
    """The folder's code files of the language (`only`: just these names, when given)."""
    out = Sources()
    names = sorted(p.name for p in folder.iterdir() if p.name.endswith(SUFFIXES[language]))
    for path in (folder / name for name in names if not only or name in only):
        problem = _refuse(path, root, limits, budget)
        if problem:
            rule, message = problem
            out.problems.append(Diagnostic("files", rule, "error", path.name, None, message))
            continue
        try:
            out.texts[path.name] = _load(path, limits, budget).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.problems.append(
                Diagnostic("files", "FILE-UNREADABLE", "error", path.name, None, f"cannot read: {exc}")
            )
    return out


def _load(path: Path, limits: Limits, budget: Budget) -> bytes:
    """The file's bytes, read once per run (`_refuse` has checked and charged it)."""
    resolved = path.resolve(strict=True)
    if resolved not in budget.read:
        budget.read[resolved] = _read(resolved, limits.file_size)
    return budget.read[resolved]


def _read(path: Path, limit: int) -> bytes:
    """The checked file, opened so that a swap since the check cannot make us follow a new
    symlink, block on a FIFO or read more than the limit."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError("not a regular file")
        data = f.read(limit + 1)
    if len(data) > limit:
        raise OSError("the file grew while it was read")
    return data


def _refuse(
    path: Path, root: Path, limits: Limits, budget: Budget, beside: bool = False
) -> tuple[str, str] | None:
    """Why this file must not be read, or None."""
    if not path.exists():  # a symlink to nothing, or one that loops
        return "FILE-UNREADABLE", f"not read: a symlink that leads nowhere ({os.readlink(path)})"
    if not inside(path, root):
        target = os.readlink(path) if path.is_symlink() else str(path)
        return "PATH-OUTSIDE-FOLDER", f"not read: it leads outside {root} (to {target})"
    if path.resolve() in budget.read:
        return None  # read (and charged) for another folder of this run
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        return "NOT-A-FILE", "not read: not a regular file"
    if info.st_size > limits.file_size:
        return (
            "LIMIT-FILE-SIZE",
            f"not read: {info.st_size} bytes, over the limit file-size={limits.file_size}",
        )
    if info.st_size > (budget.beside if beside else budget.left):
        what = " of files beside the code" if beside else ""
        return (
            "LIMIT-TOTAL-SIZE",
            f"not read: the run would read more than the limit total-size={limits.total_size}{what}",
        )
    if beside:
        budget.beside -= info.st_size
    else:
        budget.left -= info.st_size
    return None


# What a module's private copy never holds: folders whose name starts with a dot (`.terraform`
# with its provider binaries and module caches, `.git`), and state files, which `validate`
# never reads and which hold secrets.
NOT_STAGED = (".tfstate", ".tfstate.backup")


@dataclass
class Tree:
    """Files read for a private copy: path relative to the root (posix) -> bytes, and the files
    left out, (path relative to the root, why)."""

    files: dict[str, bytes] = field(default_factory=dict)
    left_out: list[tuple[str, str]] = field(default_factory=list)
    full: bool = False  # the files limit was reached: the rest is one entry of left_out
    tops: set[str] = field(default_factory=set)  # folders read whole (relative to the root; "." is it)

    def holds(self, folder: str) -> bool:
        """Whether `folder` (relative to the root) was read with a folder read whole."""
        return any(top in (".", folder) or folder.startswith(top + "/") for top in self.tops)


def read_tree(top: Path, root: Path, limits: Limits, budget: Budget, tree: Tree) -> None:
    """Every file under `top` (a folder inside `root`) into `tree`, under the rules of the code
    files: inside `root` once every symlink is resolved, regular, within the size limits, and at
    most `limits.files` files in one tree (the rest listed as left out, as one entry)."""
    base = root.resolve()
    tree.tops.add(_relative(top, root) or ".")
    seen: set[Path] = set()
    pending = [top]
    while pending:
        folder = pending.pop()
        if folder.resolve() in seen:
            continue  # a symlinked folder met twice, or a loop
        seen.add(folder.resolve())
        try:
            entries = sorted(folder.iterdir())
        except OSError as exc:
            tree.left_out.append((_relative(folder, root), f"cannot be listed: {exc.strerror}"))
            continue
        for path in entries:
            rel = _relative(path, root)
            if path.is_dir():
                if path.name.startswith("."):
                    continue
                if inside(path, base):
                    pending.append(path)
                else:
                    tree.left_out.append((rel, f"a folder leading outside {root}"))
            elif rel not in tree.files and not path.name.endswith(NOT_STAGED):
                _add(path, rel, root, limits, budget, tree)


def _add(path: Path, rel: str, root: Path, limits: Limits, budget: Budget, tree: Tree) -> None:
    if len(tree.files) >= limits.files:
        if not tree.full:
            tree.left_out.append((rel, f"it and the files after it: over the limit files={limits.files}"))
        tree.full = True
        return
    problem = _refuse(path, root, limits, budget, beside=True)
    if problem:
        tree.left_out.append((rel, problem[1].removeprefix("not read: ")))
        return
    try:
        tree.files[rel] = _load(path, limits, budget)
    except OSError as exc:
        tree.left_out.append((rel, f"cannot be read: {exc}"))


def _relative(path: Path, root: Path) -> str:
    """The path below root as written (symlinks kept: the copy has the layout the user sees)."""
    return path.relative_to(root).as_posix()


def languages_of(folder: Path, only: Collection[str] = ()) -> list[str]:
    names = list(only) or ([p.name for p in folder.iterdir()] if folder.is_dir() else [])
    return [lang for lang, suffixes in MARKERS.items() if any(n.endswith(suffixes) for n in names)]


def code_folders(root: Path) -> tuple[list[Path], list[Path]]:
    """Folders holding code under root (root itself if it does), and symlinked folders that lead
    outside root (reported, never entered). A symlinked folder inside root is walked under its
    own name only when it leads to a hidden folder the walk skips (a wave that `plan` wrote as a
    symlink to its generation folder, migrator/atomic.py), and then once per folder reached."""
    if languages_of(root):
        return [root], []
    found: list[Path] = []
    outside: list[Path] = []
    pending, walked = [root], {root.resolve()}
    while pending:
        for link in _walk(pending.pop(0), root, found):
            target = link.resolve() if inside(link, root) else None
            if target is None:
                outside.append(link)
            elif _hidden_below(target, root) and target not in walked:
                walked.add(target)
                pending.append(link)
    return sorted(found), sorted(outside)


def _walk(top: Path, root: Path, found: list[Path]) -> list[Path]:
    """Add the code folders under `top` (skipping hidden ones) to found; returns the symlinked
    folders met, which os.walk lists without entering."""
    links = []

    def unreadable(exc: OSError) -> None:
        raise exc  # a subfolder that cannot be listed would otherwise be skipped silently

    for current, dirs, _files in os.walk(top, onerror=unreadable, followlinks=False):
        here = Path(current)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for d in list(dirs):
            if (here / d).is_symlink():
                dirs.remove(d)
                links.append(here / d)
        if here != root and languages_of(here):
            found.append(here)
    return links


def _hidden_below(target: Path, root: Path) -> bool:
    """Whether the walk of root skips `target` (resolved, inside root): a hidden folder on the way."""
    return any(part.startswith(".") for part in target.relative_to(root.resolve()).parts)
