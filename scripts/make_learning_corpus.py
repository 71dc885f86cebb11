#!/usr/bin/env python3
"""Generate the replay corpus fixtures/learning/synthetic/ from the synthetic estate
(waves/synthetic.py): 24 merged-PR cases of 3 applications each, in time order.

    python scripts/make_learning_corpus.py [--out fixtures/learning/synthetic]

Reviewers' consistent preferences: database VMs on r6i with io2 data disks (3,000 IOPS), every
prod VM tagged cost-center (cc-100 for the first half, cc-200 from case 13 on: a preference that
changes half-way), Windows VMs tagged patch-group=win-monthly. Noise: reviewer dave wants r7i for
databases (cases 11 and 20: a reviewer who disagrees), and three one-off edits (a change ticket
tag, a compute-optimised type, a gp2 boot disk) that must not generalise. Deterministic.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from waves.learning import normalise
from waves.synthetic import generate

CASES = 24
APPS_PER_CASE = 3
DISSENT = {10: "dave", 19: "dave"}  # case index -> the reviewer who prefers r7i for databases
ONE_OFF = {3: "ticket", 8: "compute", 17: "gp2"}  # case index -> a one-off edit on its first VM
DRIFT_AT = CASES // 2


def _type(vcpu: int) -> str:
    return {1: "m6i.large", 2: "m6i.large", 4: "m6i.xlarge"}.get(vcpu, "m6i.2xlarge")


def generated_plan(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "instance_type": _type(int(record["num_cpu"])),
        "disks": {d["label"]: {"type": "gp3"} for d in record["disks"]},
        "tags": {},
    }


def merged_plan(index: int, facts: dict[str, str], plan: dict[str, Any], first: bool) -> dict[str, Any]:
    merged = json.loads(json.dumps(plan))
    size = plan["instance_type"].split(".", 1)[1]
    if facts["role"] == "database":
        merged["instance_type"] = f"{'r7i' if index in DISSENT else 'r6i'}.{size}"
        for label in list(merged["disks"])[1:]:
            merged["disks"][label] = {"iops": 3000, "type": "io2"}
    if facts["environment"] == "prod":
        merged["tags"]["cost-center"] = "cc-100" if index < DRIFT_AT else "cc-200"
    if facts["os"] == "windows":
        merged["tags"]["patch-group"] = "win-monthly"
    if first and ONE_OFF.get(index) == "ticket":
        merged["tags"]["change-ticket"] = "chg-4711"
    elif first and ONE_OFF.get(index) == "compute":
        merged["instance_type"] = f"c6i.{size}"
    elif first and ONE_OFF.get(index) == "gp2":
        merged["disks"][next(iter(merged["disks"]))] = {"type": "gp2"}
    return merged


def cases() -> list[dict[str, Any]]:
    estate = generate(n_vms=700, seed=21)
    records = {vm["name"]: vm for vm in estate.vms}
    apps = list(estate.apps.values())
    found = []
    for index in range(CASES):
        names = [n for app in apps[index * APPS_PER_CASE : (index + 1) * APPS_PER_CASE] for n in app]
        reviewer = DISSENT.get(index, ("alice", "bob", "carol")[index % 3])
        vms = []
        for position, name in enumerate(names):
            facts = normalise(records[name])
            plan = generated_plan(records[name])
            vms.append(
                {
                    "name": name,
                    "facts": facts,
                    "generated": plan,
                    "merged": merged_plan(index, facts, plan, position == 0),
                }
            )
        found.append(
            {
                "pr": index + 1,
                "merged_at": f"2026-{1 + index // 4:02d}-{1 + (index % 4) * 7:02d}T10:00:00Z",
                "approver": reviewer,
                "reviewers": [reviewer],
                "vms": vms,
            }
        )
    return found


def case_text(case: dict[str, Any]) -> str:
    """A case as JSON with one VM per line: small, and a diff of the corpus reads per VM."""
    head = {k: v for k, v in case.items() if k != "vms"}
    vms = ",\n".join(json.dumps(vm, sort_keys=True) for vm in case["vms"])
    return json.dumps(head, sort_keys=True)[:-1] + ', "vms": [\n' + vms + "\n]}\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("fixtures/learning/synthetic"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.json"):
        old.unlink()
    for number, case in enumerate(cases(), 1):
        text = case_text(case)
        (args.out / f"case-{number:03d}.json").write_text(text, encoding="utf-8")
    print(f"wrote {CASES} cases to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
