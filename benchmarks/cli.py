"""Start-up time of the command line (issue 24: under 0.3 s on a warm cache).

Times `migrator --help`, `migrator snapshots list` and `migrator pr list` (on a workspace holding a
few snapshots, its database already at the current schema), each beside baselines measured in the
same run: the bare interpreter (`python -c pass`), `import typer`, and a one-option Typer command
run to its end (what Typer itself costs: it imports rich for help and pydantic to convert every
option). Each is run once to warm the file cache, then best of --runs (wall and CPU time of the
child, user + system). Prints the figures, then a `BENCH {json}` line for benchmarks/report.py.
Run: python benchmarks/cli.py [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 0.3
TYPER_HELLO = (
    "import typer\n"
    "app = typer.Typer()\n"
    "@app.command()\n"
    "def hello(name: str = typer.Option('x', '--name')) -> None:\n"
    "    print(name)\n"
    "app(['--name', 'y'])\n"
)


def timed(argv: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run (CPU: the child's user + system time)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, env=env, cwd=ROOT, capture_output=True, check=False)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit(f"{' '.join(argv)} failed: {proc.stderr.decode()[-500:]}")
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def best(argv: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    timed(argv, env)  # warm the file cache (and, for migrator, create nothing new: see seed)
    results = [timed(argv, env) for _ in range(runs)]
    return min(r[0] for r in results), min(r[1] for r in results)


def seed(workspace: Path, env: dict[str, str]) -> None:
    """A workspace with a few snapshots (one failed), in a process of its own."""
    code = (
        "from pathlib import Path\n"
        "from migrator.app.workspace import Workspace\n"
        "from migrator.store.inventory import Inventory\n"
        f"ws = Workspace.open(Path({str(workspace)!r}))\n"
        "for n in range(5):\n"
        "    sid = ws.store.begin('rvtools', f'export-{n}.xlsx')\n"
        "    ws.store.commit(sid, Inventory(warnings=[f'warning {n}']))\n"
        "ws.store.fail(ws.store.begin('vcenter', 'vc.example'), 'failed', 'connection refused')\n"
    )
    subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
        env.update(MIGRATOR_WORKSPACE=str(Path(tmp) / "ws"), PYTHONPATH=str(ROOT), COLUMNS="100")
        seed(Path(tmp) / "ws", env)
        cases = [
            ("baseline: python -c pass", [py, "-c", "pass"], ""),
            ("baseline: python -c 'import typer'", [py, "-c", "import typer"], ""),
            ("baseline: a one-option Typer command", [py, "-c", TYPER_HELLO], ""),
            ("migrator --help", [py, "-m", "migrator", "--help"], f"< {TARGET_S}"),
            ("migrator snapshots list", [py, "-m", "migrator", "snapshots", "list"], f"< {TARGET_S}"),
            ("migrator pr list", [py, "-m", "migrator", "pr", "list"], f"< {TARGET_S}"),
        ]
        measured = [(label, *best(argv, env, args.runs), target) for label, argv, target in cases]
    load = os.getloadavg()[0]
    print(f"CLI start-up, best of {args.runs} after one warm-up run (load average {load:.1f}):")
    for label, wall, cpu, target in measured:
        print(f"  {label:40} {wall:.3f} s wall, {cpu:.3f} s CPU  {('target ' + target) if target else ''}")
    figures = [
        [f"{label}: wall s (CPU s)", f"{wall:.3f} ({cpu:.3f})", target]
        for label, wall, cpu, target in measured
    ]
    figures.append(["load average", f"{load:.1f}", ""])
    print("BENCH " + json.dumps({"bench": "cli", "figures": figures}))


if __name__ == "__main__":
    main()
