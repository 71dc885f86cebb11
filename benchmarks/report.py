"""`make bench`: run every benchmark, pass its output through, then print one table of every
figure beside its target.

The contract with the scripts: each prints, among its human-readable lines, one or more lines
`BENCH {json}` whose object has `bench` (a name) and `figures`, a list of
`[label, value, target]` (strings; target "" when there is none). A script that prints no such
line still runs and shows its output; the table says its figures are missing. Discovery's
rows include inventory-only discovery against the Go peer (benchmarks/gopeer.py), target 1.0x.
Code generation runs at 1,000 VMs once per registered target (issue 26: each under 20 s; the
registry's list, so a new target gets its row) and at 10,000 VMs for terraform-aws and kubevirt
at once (issue 24: under 60 s and 2 GiB, with the stage split), planning at 10,000, 50,000 and
100,000 VMs, the estate benchmark at 3 x 10,000.
Usage: python benchmarks/report.py [--quick]  (--quick: planning and findings at 10,000 VMs and
code generation at 1,000 only, no estate benchmark)
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from transpilers.registry import TARGETS  # noqa: E402 - after the path above

PREFIX = "BENCH "


def runs(quick: bool) -> list[tuple[str, list[str]]]:
    planning = [("planning 10k", ["waves.py", "--vms", "10000"])]
    findings = [("findings 10k", ["findings.py", "--vms", "10000"])]
    generation = [(f"code generation {t}", ["plan.py", "--target", t]) for t in TARGETS]
    estate = []
    if not quick:
        planning.append(("planning 50k", ["waves.py", "--vms", "50000"]))
        planning.append(("planning 100k", ["waves.py", "--vms", "100000"]))
        estate.append(("estate 3x10k", ["estate.py"]))
        findings.append(("findings 50k", ["findings.py", "--vms", "50000", "--no-reference"]))
        # issue 24's 10,000-VM figure is for the first two targets (terraform-aws and kubevirt)
        ten_k = ["plan.py", "--vms", "10000", "--target", "terraform-aws", "--target", "kubevirt"]
        generation.append(("code generation 10k", ten_k))
    return [
        ("discovery", ["discovery.py"]),
        *planning,
        *findings,
        *estate,
        *generation,
        ("dashboard", ["dashboard.py"]),
        ("what-if", ["whatif.py"]),
        ("cli start-up", ["cli.py"]),
        ("vector search", ["vectors.py"]),
    ]


def run(name: str, argv: list[str]) -> tuple[list[dict[str, object]], int]:
    """Run one script with this interpreter; echo its output; return its BENCH objects."""
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"== {name}: {' '.join(argv)} (load average {load})", flush=True)
    proc = subprocess.run(
        [sys.executable, str(HERE / argv[0]), *argv[1:]], capture_output=True, text=True, check=False
    )
    found = []
    for line in proc.stdout.splitlines():
        if line.startswith(PREFIX):
            try:
                found.append(json.loads(line[len(PREFIX) :]))
            except json.JSONDecodeError:
                print(f"  (unreadable summary line: {line[:80]})")
        else:
            print(line)
    if proc.returncode:
        print(proc.stderr.strip()[-2000:])
    return found, proc.returncode


def table(rows: list[tuple[str, str, str, str]]) -> str:
    header = ("benchmark", "figure", "measured", "target")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(4)]
    lines = [" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in [header, *rows]]
    lines.insert(1, "-+-".join("-" * w for w in widths))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick", action="store_true", help="skip the 50k/100k planning, 50k findings, 10k generation"
    )
    args = parser.parse_args()
    rows: list[tuple[str, str, str, str]] = []
    failed = 0
    for name, argv in runs(args.quick):
        found, code = run(name, argv)
        failed += code != 0
        figures = [f for summary in found for f in summary.get("figures", [])]  # type: ignore[attr-defined]
        if not figures:
            rows.append((name, "(no BENCH summary line: see its output above)", "-", "-"))
        rows += [(name, str(label), str(value), str(target)) for label, value, target in figures]
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"\n== summary ({os.cpu_count()} cores; load average now {load})")
    print(table(rows))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
