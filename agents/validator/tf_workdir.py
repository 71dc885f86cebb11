"""What Terraform's core sees of a module besides its own .tf files: the files kept beside it and
the local modules it calls, as a private copy with the layout of the folder given.

`file("userdata.sh")`, `templatefile("${path.module}/templates/x.tftpl", ...)` and
`filebase64sha256("lambda.zip")` read files when the core validates, and `module` blocks with a
local `source` ("./modules/x", "../shared") name folders the core loads through the module
manifest that `terraform init` (or `get`) writes. The copy holds the module's folder with
everything under it (folders starting with a dot and state files excepted) and each local module
folder it calls, recursively; the manifest is what `terraform get` records for local sources.
Nothing outside the folder given is read, no symlink is followed out of it, the file limits and
the run's size budget apply, and nothing is ever written into the folder itself.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field
from pathlib import Path

from agents.validator.limits import Limits
from agents.validator.sources import Budget, Tree, inside, read_tree
from migrator.diagnostics import Diagnostic

ROOT_MODULE = {"Key": "", "Source": "", "Dir": "."}  # the manifest's entry for the module itself
MAX_MODULE_DEPTH = 20  # module calls nested deeper than this are left to the core to report
_MODULE = re.compile(r'^module\s+"([^"]+)"\s*\{')
_SOURCE = re.compile(r'^\s*source\s*=\s*"([^"]*)"')
_TOP_LEVEL = re.compile(r"^[A-Za-z_]")


@dataclass
class WorkDir:
    at: str  # the module's folder relative to the root ("." for the root itself), posix
    files: dict[str, bytes] = field(default_factory=dict)  # path relative to the root -> bytes
    modules: list[dict[str, str]] = field(default_factory=list)  # the module manifest's entries
    notices: list[Diagnostic] = field(default_factory=list)


@dataclass(frozen=True)
class ModuleCall:
    name: str
    source: str
    file: str  # the .tf file that holds the block, relative to its module's folder
    line: int


def module_calls(texts: dict[str, str]) -> list[ModuleCall]:
    """The module blocks of a module's texts with a literal `source` (Terraform requires one)."""
    calls = []
    for file, text in sorted(texts.items()):
        lines = text.splitlines()
        for number, line in enumerate(lines, start=1):
            header = _MODULE.match(line)
            if not header:
                continue
            for inner in lines[number:]:
                if _TOP_LEVEL.match(inner):
                    break  # the next top-level block: this one has no literal source
                source = _SOURCE.match(inner)
                if source:
                    calls.append(ModuleCall(header[1], source[1], file, number))
                    break
    return calls


_TYPE = re.compile(r'^\s*(resource|data)\s+"?([\w-]+)"?', re.MULTILINE)


def used_types(texts: dict[str, str], work: WorkDir) -> dict[str, list[str]] | None:
    """The resource and data source types the module and its local modules mention (for a
    binary's provider to send full schemas for those only), read from the block headers so
    that it is known before any parse; None (every schema) when a JSON configuration file
    (`.tf.json`) is among them, whose types a header scan does not see."""
    sources = [*texts.values()]
    for rel, data in work.files.items():
        if rel.endswith(".tf.json"):
            return None
        if rel.endswith(".tf"):
            sources.append(data.decode("utf-8", "replace"))
    found: dict[str, set[str]] = {"resource": set(), "data": set()}
    for text in sources:
        for kind, name in _TYPE.findall(text):
            found[kind].add(name)
    return {kind: sorted(names) for kind, names in found.items()}


def is_local(source: str) -> bool:
    """Terraform's rule: a local path starts with ./ or ../; anything else is fetched by init."""
    return source.startswith(("./", "../"))


def gather(folder: Path, root: Path, texts: dict[str, str], limits: Limits, budget: Budget) -> WorkDir:
    """The private copy's files and module manifest for the module in `folder` (inside `root`)."""
    at = folder.relative_to(root).as_posix()
    work = WorkDir(at)
    tree = Tree()
    read_tree(folder, root, limits, budget, tree)
    work.modules.append(ROOT_MODULE)
    _walk_calls(work, tree, root, limits, budget, ("", at, texts), depth=0)
    work.files = {rel: data for rel, data in tree.files.items() if not _is_text(rel, at, texts)}
    work.notices += _left_out(tree, texts, at)
    return work


def _is_text(rel: str, at: str, texts: dict[str, str]) -> bool:
    """A .tf file of the module itself: staged from the texts the checkers read."""
    folder, name = posixpath.split(rel)
    return (folder or ".") == at and name in texts


def _walk_calls(
    work: WorkDir,
    tree: Tree,
    root: Path,
    limits: Limits,
    budget: Budget,
    caller: tuple[str, str, dict[str, str]],
    depth: int,
) -> None:
    """Record each local module call of the caller (key, folder relative to root, texts) in the
    manifest, read its folder into the tree and follow its own calls."""
    key, folder, texts = caller
    for call in module_calls(texts):
        if not is_local(call.source) or depth >= MAX_MODULE_DEPTH:
            continue  # fetched by init (see docs/validate.md), or a loop the core reports
        target = posixpath.normpath(posixpath.join(folder, call.source))
        path = root / target
        if target.startswith(".."):
            work.notices.append(_outside(call, folder, work.at, root))
            continue
        if not path.exists() and not path.is_symlink():
            continue  # a missing folder inside the root: the core reports it ("Module not installed")
        if not inside(path, root):
            work.notices.append(_outside(call, folder, work.at, root))
            continue
        if not path.is_dir():
            continue  # the core reports the missing folder
        if not tree.holds(target):  # an ancestor (`../../`) is not held by its descendant's read
            read_tree(path, root, limits, budget, tree)
        child = f"{key}.{call.name}" if key else call.name
        relative = posixpath.relpath(target, work.at)
        work.modules.append({"Key": child, "Source": call.source, "Dir": relative})
        module_texts = {
            posixpath.basename(rel): data.decode("utf-8", "replace")
            for rel, data in tree.files.items()
            if posixpath.dirname(rel) == target and rel.endswith(".tf")
        }
        _walk_calls(work, tree, root, limits, budget, (child, target, module_texts), depth + 1)


def _outside(call: ModuleCall, folder: str, at: str, root: Path) -> Diagnostic:
    file = posixpath.relpath(posixpath.join(folder, call.file), at)
    return Diagnostic(
        "files",
        "PATH-OUTSIDE-FOLDER",
        "error",
        file,
        call.line,
        f'module "{call.name}": its source "{call.source}" leads outside {root}; not read '
        "(validate a folder that holds both)",
        f"module.{call.name}",
    )


def _left_out(tree: Tree, texts: dict[str, str], at: str) -> list[Diagnostic]:
    """One notice per file the copy lacks: a warning when a .tf text names it (a function that
    reads it fails in the core), else info."""
    named = "\n".join(texts.values())
    return [
        Diagnostic(
            "files",
            "FILE-NOT-STAGED",
            "warning" if posixpath.basename(rel) in named else "info",
            posixpath.relpath(rel, at),
            None,
            f"not given to Terraform's core: {why}; file(), templatefile() and the like on it fail there",
        )
        for rel, why in tree.left_out
    ]
