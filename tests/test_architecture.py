"""The layering rules (import-linter contracts in pyproject.toml) hold and cover every core module."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRONT_ENDS = {"migrator.cli", "migrator.web", "migrator.mcp_server"}
VSPHERE = {"migrator.vcenter", "migrator.simulator"}


def _contracts() -> dict[str, dict[str, object]]:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    return {c["id"]: c for c in config["contracts"]}


def _migrator_modules() -> set[str]:
    """Top-level modules and packages of migrator (entry points excluded)."""
    found = set()
    for path in (ROOT / "migrator").iterdir():
        if path.name.startswith(("_", ".")):
            continue
        if path.is_dir() and (path / "__init__.py").is_file():
            found.add(f"migrator.{path.name}")
        elif path.suffix == ".py":
            found.add(f"migrator.{path.stem}")
    return found


def test_contracts_pass() -> None:
    lint = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint)], cwd=ROOT, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout[-3000:]
    assert "0 broken" in result.stdout


def test_every_core_module_is_under_the_contracts() -> None:
    """A new module must be added to the contracts' lists, or it escapes them silently."""
    contracts = _contracts()
    core = _migrator_modules() - FRONT_ENDS
    assert core - set(contracts["core-not-front-ends"]["source_modules"]) == set()  # type: ignore[arg-type]
    assert core - set(contracts["terminal-ui-in-cli"]["source_modules"]) == set()  # type: ignore[arg-type]
    assert "migrator.mcp_server" in contracts["terminal-ui-in-cli"]["source_modules"]  # type: ignore[operator]
    vsphere_free = (core | {"migrator.cli", "migrator.mcp_server"}) - VSPHERE
    assert vsphere_free - set(contracts["pyvmomi-in-vcenter"]["source_modules"]) == set()  # type: ignore[arg-type]
    for domain in ("waves", "transpilers", "agents", "policies"):
        assert domain in contracts["core-not-front-ends"]["source_modules"]  # type: ignore[operator]


def test_every_package_is_shipped() -> None:
    """setuptools lists packages explicitly: a package missing there is missing from an install."""
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("migrator", "waves", "transpilers", "agents", "policies")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert on_disk - listed == set()


def test_cli_functions_stay_thin() -> None:
    """Command functions parse options, call a use case (migrator.app) and render: about 40 lines."""
    import ast

    long = []
    for path in sorted((ROOT / "migrator" / "cli").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.end_lineno is not None:
                length = node.end_lineno - node.lineno + 1
                if length > 45:
                    long.append(f"{path.name}:{node.name} ({length} lines)")
    assert long == []


def test_discovery_workers_import_no_database_or_front_end() -> None:
    """Each discovery worker process imports migrator.vcenter.discovery; SQLAlchemy, the CLI
    and the web stack cost it half a second or more of start-up apiece and are never used there."""
    heavy = "{'sqlalchemy', 'sqlmodel', 'typer', 'fastapi', 'langgraph'}"
    loaded = "{m.split('.')[0] for m in sys.modules}"
    probe = f"import sys, migrator.vcenter.discovery; print(sorted({loaded} & {heavy}))"
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_each_agent_has_its_own_package_that_says_its_job() -> None:
    """agents/ holds one package per agent (and its data), no loose modules; each __init__ has a docstring."""
    import ast

    agents = ROOT / "agents"
    loose = sorted(p.name for p in agents.glob("*.py") if p.name != "__init__.py")
    assert loose == []
    packages = sorted(p.parent.name for p in agents.glob("*/__init__.py"))
    assert packages == ["eval", "generator", "interpreter", "llm", "refiner", "validator"]
    inits = {name: (agents / name / "__init__.py").read_text() for name in packages}
    undocumented = [name for name, text in inits.items() if not ast.get_docstring(ast.parse(text))]
    assert undocumented == []
