"""The lock file is what every machine installs (`make deps`): it covers every requirement of
pyproject.toml, pins each with hashes, and the environment the tests run in is exactly it."""

from __future__ import annotations

import importlib.metadata
import re
import tomllib
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
PIN = re.compile(r"^(?P<name>[A-Za-z0-9._-]+)==(?P<version>[^\s;\\]+)\s*(?:;\s*(?P<marker>[^\\]+?))?\s*\\?$")


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """name -> (version, number of hashes) for the pins whose marker holds here."""
    pins: dict[str, tuple[str, int]] = {}
    current: str | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            marker = match["marker"]
            current = None
            if marker is None or Marker(marker).evaluate():
                current = canonicalize_name(match["name"])
                pins[current] = (match["version"], 0)
        elif line.strip().startswith("--hash=sha256:") and current is not None:
            version, hashes = pins[current]
            pins[current] = (version, hashes + 1)
    return pins


def project_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    return [Requirement(r) for r in project["dependencies"] + extras["dev"] + extras["llm-server"]]


def test_every_project_requirement_is_pinned_in_the_lock_with_hashes() -> None:
    pins = locked(ROOT / "requirements.lock")
    assert len(pins) > 100
    for requirement in project_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not in requirements.lock: run `make lock`"
        version, hashes = pins[name]
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)
        assert hashes >= 1, f"{name} has no hash"
    assert all(hashes >= 1 for _, hashes in pins.values())


def test_the_environment_under_test_is_exactly_the_lock() -> None:
    for path in (ROOT / "requirements.lock", ROOT / "scripts" / "llm-model.lock"):
        for name, (version, _) in locked(path).items():
            assert importlib.metadata.version(name) == version, f"{name}: installed ≠ {path.name}"


def test_the_lock_parser_reads_markers_and_hashes(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    lock.write_text(
        "a==1.0 \\\n    --hash=sha256:aa \\\n    --hash=sha256:bb\n    # via b\n"
        "c==2.0 ; sys_platform == 'no-such-platform' \\\n    --hash=sha256:cc\n"
        "d==3.0 ; python_full_version >= '3.11' \\\n    --hash=sha256:dd\n",
        encoding="utf-8",
    )
    assert locked(lock) == {"a": ("1.0", 2), "d": ("3.0", 1)}
