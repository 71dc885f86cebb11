"""The files of one folder, read once, safely: only what lies inside the folder given, only
regular files, never more than the limits allow. Every checker reads these texts, never the disk
again (the real tools get a private copy), so what was checked is what was read.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from agents.limits import Limits
from migrator.diagnostics import Diagnostic

SUFFIXES = {"terraform": (".tf",), "kubernetes": (".yaml", ".yml")}


@dataclass
class Budget:
    """The bytes one run may still read (limit total-size), shared by every folder of the run."""

    left: int


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


def read_sources(folder: Path, language: str, root: Path, limits: Limits, budget: Budget) -> Sources:
    out = Sources()
    for path in sorted(p for p in folder.iterdir() if p.name.endswith(SUFFIXES[language])):
        problem = _refuse(path, root, limits, budget)
        if problem:
            rule, message = problem
            out.problems.append(Diagnostic("files", rule, "error", path.name, None, message))
            continue
        try:
            out.texts[path.name] = _read(path.resolve(strict=True), limits.file_size).decode("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            out.problems.append(
                Diagnostic("files", "FILE-UNREADABLE", "error", path.name, None, f"cannot read: {exc}")
            )
    return out


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


def _refuse(path: Path, root: Path, limits: Limits, budget: Budget) -> tuple[str, str] | None:
    """Why this file must not be read, or None."""
    if not path.exists():  # a symlink to nothing, or one that loops
        return "FILE-UNREADABLE", f"not read: a symlink that leads nowhere ({os.readlink(path)})"
    if not inside(path, root):
        target = os.readlink(path) if path.is_symlink() else str(path)
        return "PATH-OUTSIDE-FOLDER", f"not read: it leads outside {root} (to {target})"
    info = path.stat()
    if not stat.S_ISREG(info.st_mode):
        return "NOT-A-FILE", "not read: not a regular file"
    if info.st_size > limits.file_size:
        return (
            "LIMIT-FILE-SIZE",
            f"not read: {info.st_size} bytes, over the limit file-size={limits.file_size}",
        )
    if info.st_size > budget.left:
        return (
            "LIMIT-TOTAL-SIZE",
            f"not read: the run would read more than the limit total-size={limits.total_size}",
        )
    budget.left -= info.st_size
    return None


def languages_of(folder: Path) -> list[str]:
    names = [p.name for p in folder.iterdir()] if folder.is_dir() else []
    return [lang for lang, suffixes in SUFFIXES.items() if any(n.endswith(suffixes) for n in names)]


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
