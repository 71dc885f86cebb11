"""The dashboard's what-if preview (one pin, re-plan) on the 10,000-VM synthetic estate with its
plan stored (issue 24: under 1 s, so the preview answers while the architect waits).

Times `migrator.app.whatif.preview_pin` (what `GET /api/whatif` runs): the first preview of a
plan, which reads the plan and the inputs and prepares the graph it then keeps (waves.plan.prepare),
and then previews of different VMs and waves on that kept basis. The baseline, measured in the
same run, is the same previews with nothing kept (the basis dropped before each: what every
preview cost before). Wall and CPU seconds (this process) for each. Asserts nothing.
Run: python benchmarks/whatif.py [--vms 10000] [--previews 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.dashboard import build
from migrator.app import whatif
from migrator.app.workspace import Workspace

TARGET_S = 1.0


def timed(ws: Workspace, vm: str, wave: int, keep: bool) -> tuple[float, float]:
    if not keep:
        whatif._bases.clear()  # the baseline: nothing kept from one preview to the next
    wall, cpu = time.perf_counter(), time.process_time()
    whatif.preview_pin(ws, vm, wave)
    return time.perf_counter() - wall, time.process_time() - cpu


def cases(ws: Workspace, count: int) -> list[tuple[str, int]]:
    """Different VMs spread over the plan, each pinned to a wave other than its own."""
    doc = ws.plans.get(None)
    names = sorted(doc["vms"])
    waves = len(doc["waves"])
    picks = [names[(i * 2654435761) % len(names)] for i in range(1, count + 1)]
    return [(vm, (doc["vms"][vm]["wave"] + 7 * (i + 1)) % waves + 1) for i, vm in enumerate(picks)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--vms", type=int, default=10_000)
    parser.add_argument("--previews", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="migrator-bench-whatif-") as tmp:
        ws = build(Path(tmp) / "ws", args.vms)
        pins = cases(ws, args.previews + 1)
        whatif._bases.clear()
        first = timed(ws, *pins[0], keep=True)
        kept = [timed(ws, vm, wave, keep=True) for vm, wave in pins[1:]]
        scratch = [timed(ws, vm, wave, keep=False) for vm, wave in pins[1:]]
        ws.close()
    load = os.getloadavg()[0]
    rows = [
        ("first preview of a plan (prepares the basis)", [first]),
        ("preview on the kept basis", kept),
        ("baseline: preview with nothing kept", scratch),
    ]
    print(f"what-if previews, {args.vms} VMs, {args.previews} pins each (load average {load:.1f}):")
    figures = []
    for label, runs in rows:
        walls, cpus = [r[0] for r in runs], [r[1] for r in runs]
        median, median_cpu = statistics.median(walls), statistics.median(cpus)
        target = f"< {TARGET_S:g}" if label.startswith("preview on") else ""
        print(f"  {label:46} median {median:.2f} s wall ({median_cpu:.2f} s CPU), best {min(walls):.2f} s")
        figures.append(
            [
                f"{args.vms // 1000}k: {label}: median wall s (CPU s)",
                f"{median:.2f} ({median_cpu:.2f})",
                target,
            ]
        )
    figures.append(["load average", f"{load:.1f}", ""])
    print("BENCH " + json.dumps({"bench": "whatif", "vms": args.vms, "figures": figures}))


if __name__ == "__main__":
    main()
