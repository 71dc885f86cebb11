"""The plans repository: one branch per wave and target, commits made with git's plumbing.

migrator keeps a bare repository: `<workspace>/plans.git` by default, or, for `--repo PATH|URL`,
a bare clone of it under `<workspace>/plans-remotes/` whose branches are pushed back. Commits
are built in a temporary index (read-tree, update-index, write-tree, commit-tree) and published
with a compare-and-swap `update-ref`, so no checkout is disturbed and a concurrent change is
detected rather than overwritten. Each migrator commit carries trailers (`Migrator-Land:` the
folder, `Migrator-Tree:` the folder's tree) that tell its commits from a reviewer's.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from migrator.errors import Conflict, UsageError
from migrator.review.git import ZERO, Git, GitError
from transpilers.escape import one_line

LAND_TRAILER = "Migrator-Land"
TREE_TRAILER = "Migrator-Tree"
REFINE_TRAILER = "Migrator-Refinement"  # a landed refinement: regenerating the wave would undo it


@dataclass(frozen=True)
class Author:
    name: str = "migrator"
    email: str = "migrator@localhost"

    def env(self) -> dict[str, str]:
        return {
            "GIT_AUTHOR_NAME": self.name,
            "GIT_AUTHOR_EMAIL": self.email,
            "GIT_COMMITTER_NAME": self.name,
            "GIT_COMMITTER_EMAIL": self.email,
        }


@dataclass(frozen=True)
class Landed:
    commit: str | None  # None: nothing changed, no commit
    branch: str
    previous: str | None  # the branch's tip before
    overwritten: list[str]  # human commits replaced (with --overwrite-edits)


def branch_name(target: str, wave: int) -> str:
    return f"migrator/{target}/wave-{wave:02d}"


def folder_name(target: str, wave: int) -> str:
    return f"{target}/wave-{wave:02d}"


def check_location(location: str) -> str:
    """A --repo value without credentials (they would land in the store and in argv)."""
    if location.startswith("-"):
        raise UsageError(f"{{repo}} {location!r}: a path or URL cannot start with '-'", field="repo")
    parts = urlsplit(location)
    if parts.scheme and parts.scheme not in ("file", "http", "https", "ssh", "git"):
        raise UsageError(
            f"{{repo}} {location!r}: use a path or a file://, https://, ssh:// or git:// URL", field="repo"
        )
    if parts.password or (parts.scheme in ("http", "https") and parts.username):
        raise UsageError(
            "{repo} must not carry credentials: give the token's variable with {token_env}",
            field=("repo", "token_env"),
        )
    return location


class PlansRepo:
    def __init__(self, git: Git, remote: str | None, base: str) -> None:
        self.git = git
        self.remote = remote
        self.base = base

    @classmethod
    def open(
        cls, workspace: Path, location: str | None, base: str = "main", token: str | None = None
    ) -> PlansRepo:
        if location is None:
            git_dir = (workspace / "plans.git").resolve()
            if not (git_dir / "HEAD").exists():
                git_dir.mkdir(parents=True, exist_ok=True)
                Git(git_dir).run("init", "--bare", "-q", f"--initial-branch={base}", str(git_dir))
            return cls(Git(git_dir), None, base)
        check_location(location)
        slug = hashlib.sha256(location.encode("utf-8")).hexdigest()[:16]
        git_dir = (workspace / "plans-remotes" / f"{slug}.git").resolve()
        git = Git(git_dir).with_token(token)
        if not (git_dir / "HEAD").exists():
            git_dir.mkdir(parents=True, exist_ok=True)
            git.run("init", "--bare", "-q", f"--initial-branch={base}", str(git_dir))
            git.run("remote", "add", "origin", location)
        repo = cls(git, location, base)
        repo.fetch()
        return repo

    def fetch(self) -> None:
        if self.remote:
            self.git.run("fetch", "-q", "--prune", "origin", "+refs/heads/*:refs/heads/*")

    def push(self, *branches: str) -> None:
        if self.remote:
            self.git.run("push", "-q", "origin", *(f"refs/heads/{b}:refs/heads/{b}" for b in branches))

    def ensure_base(self, author: Author) -> str:
        tip = self.git.rev(self.base)
        if tip:
            return tip
        empty = self.git.run("hash-object", "-t", "tree", "-w", "--stdin", input=b"")
        text = b"Plans repository of migrator: one branch per wave and target.\n"
        readme = self._tree_with(empty, "", {"README.md": text})
        commit = self.git.run(
            "commit-tree", readme, "-m", "Start the plans repository", extra_env=author.env()
        )
        self.git.run("update-ref", f"refs/heads/{self.base}", commit, ZERO)
        self.push(self.base)
        return commit

    def _tree_with(self, parent: str, folder: str, files: dict[str, bytes]) -> str:
        """The tree of `parent` with `folder` replaced by exactly `files`."""
        with tempfile.TemporaryDirectory(prefix="migrator-index-") as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            self.git.run("read-tree", parent, extra_env=env)
            if folder:
                self.git.run("rm", "-r", "-q", "--cached", "--ignore-unmatch", "--", folder, extra_env=env)
            lines = []
            for name, data in sorted(files.items()):
                blob = self.git.run("hash-object", "-w", "--stdin", input=data)
                path = f"{folder}/{name}" if folder else name
                lines.append(f"100644 {blob}\t{path}\n")
            self.git.run("update-index", "--index-info", input="".join(lines).encode("utf-8"), extra_env=env)
            return self.git.run("write-tree", extra_env=env)

    def history(
        self, branch: str, folder: str, refinements_are_edits: bool = True
    ) -> tuple[list[str], str | None]:
        """(commits a human made on the branch since migrator's last one for `folder` and not yet
        merged into the base, as "abc1234 subject (author)"; the folder tree migrator last landed).
        A refinement migrator landed counts as such a commit unless the caller builds on it."""
        log = self.git.run(
            "log",
            "--first-parent",
            f"--format=%H%x1f%h %s (%an)%x1f%(trailers:key={LAND_TRAILER},valueonly,separator=%x2c)"
            f"%x1f%(trailers:key={TREE_TRAILER},valueonly,separator=%x2c)"
            f"%x1f%(trailers:key={REFINE_TRAILER},valueonly,separator=%x2c)",
            branch,
        )
        unmerged = set(self.git.run("rev-list", branch, f"^{self.base}").split())
        found: list[str] = []
        for line in log.splitlines():
            commit, label, landed, tree, refined = [*line.split("\x1f"), "", "", "", ""][:5]
            label = one_line(label, 120)  # a human's subject: no control characters in our messages
            if landed.strip() == folder:
                if commit in unmerged and (
                    self._folder_tree(commit, folder) != tree.strip()  # migrator's commit, amended
                    or (refined.strip() and refinements_are_edits)
                ):
                    found.append(label)
                return found, tree.strip()
            if commit in unmerged:
                found.append(label)
        return found, None

    def _folder_tree(self, commit: str, folder: str) -> str:
        return self.git.run("rev-parse", "--verify", "-q", f"{commit}:{folder}", check=False)

    def land(
        self,
        target: str,
        wave: int,
        files: dict[str, bytes],
        message: str,
        author: Author,
        overwrite_edits: bool = False,
        extra: dict[str, bytes] | None = None,
        refinement: int | None = None,
    ) -> Landed:
        """Commit `files` as the wave's folder on its branch. `refinement` (a conversation id)
        marks the commit as a refinement: it builds on earlier ones, and a later landing of
        regenerated code is refused unless `overwrite_edits`, as for a reviewer's commit."""
        branch, folder = branch_name(target, wave), folder_name(target, wave)
        base_tip = self.ensure_base(author)
        tip = self.git.rev(branch)
        edits, last_tree = self.history(branch, folder, refinement is None) if tip else ([], None)
        parent = tip or base_tip
        tree = self._tree_with(parent, folder, files)
        if extra:  # files outside the wave folder, e.g. a refinement's conversation record
            tree = self._tree_with(tree, "", extra)
        new_tree = self._folder_tree(tree, folder)
        if new_tree == last_tree or tree == self.git.run("rev-parse", f"{parent}^{{tree}}"):
            return Landed(None, branch, tip, [])  # migrator's output is what it landed last time
        if edits and not overwrite_edits:
            raise Conflict(
                f"branch {branch} has {len(edits)} commit(s) since migrator last generated it: "
                f"{'; '.join(edits[:5])}"
                " (review them, then land again with {overwrite_edits} to replace them)",
                field="overwrite_edits",
            )
        trailers = f"{LAND_TRAILER}: {folder}\n{TREE_TRAILER}: {new_tree}\n"
        if refinement is not None:
            trailers += f"{REFINE_TRAILER}: conversation {refinement}\n"
        full = f"{message.rstrip()}\n\n{trailers}"
        commit = self.git.run(
            "commit-tree", tree, "-p", parent, "-F", "-", input=full.encode("utf-8"), extra_env=author.env()
        )
        self.git.run("update-ref", f"refs/heads/{branch}", commit, tip or ZERO)
        self.push(branch)
        return Landed(commit, branch, tip, edits)

    def files_at(self, ref: str, folder: str) -> dict[str, bytes | None]:
        """The folder's files at `ref`; a symlink or submodule maps to None (never followed)."""
        out: dict[str, bytes | None] = {}
        listing = self.git.run("ls-tree", "-r", "-z", "--full-tree", ref, "--", folder + "/")
        for entry in filter(None, listing.split("\0")):
            meta, path = entry.split("\t", 1)
            mode, kind, obj = meta.split()
            name = path[len(folder) + 1 :]
            if kind == "blob" and mode in ("100644", "100755"):
                out[name] = self._blob(obj)
            else:
                out[name] = None
        return out

    def _blob(self, obj: str) -> bytes:
        env = {**os.environ, "GIT_DIR": str(self.git.git_dir), **self.git.env}
        proc = subprocess.run(["git", "cat-file", "blob", obj], capture_output=True, env=env, check=False)
        if proc.returncode != 0:
            raise GitError(f"git cat-file failed on {obj}")
        return proc.stdout

    def diff(self, old: str, new: str, folder: str) -> str:
        return self.git.run("diff", "--no-color", "--no-ext-diff", f"{old}..{new}", "--", folder + "/")

    def merge(self, commit: str, message: str, author: Author) -> str:
        """A real `git merge --no-ff` of `commit` (a branch's checked tip) into the base, in a
        temporary worktree; the base moves only if nobody moved it meanwhile."""
        base_tip = self.git.rev(self.base)
        if base_tip is None:
            raise GitError(f"the plans repository has no {self.base} branch")
        tmp = Path(tempfile.mkdtemp(prefix="migrator-merge-"))
        work = tmp / "work"
        try:
            self.git.run("worktree", "add", "-q", "--detach", str(work), base_tip)
            wt = Git(self.git.git_dir / "worktrees" / work.name, self.git.env)
            wt.run("merge", "--no-ff", "-q", "-m", message, commit, cwd=work, extra_env=author.env())
            merged = wt.run("rev-parse", "HEAD", cwd=work)
        finally:
            self.git.run("worktree", "remove", "--force", str(work), check=False)
            shutil.rmtree(tmp, ignore_errors=True)
            self.git.run("worktree", "prune", check=False)
        self.git.run("update-ref", f"refs/heads/{self.base}", merged, base_tip)
        self.push(self.base)
        return merged
