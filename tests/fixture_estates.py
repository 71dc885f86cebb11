"""Writes the synthetic fixture estate: `python -m tests.fixture_estates fixtures`.

fixtures/inventories/synthetic-300.json (an inventory export) and fixtures/flows/synthetic-300.csv
(generic flow CSV), from waves.synthetic with a fixed seed; a test checks the files still match.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

from migrator.export import SCHEMA_VERSION
from migrator.flows.csv_import import GENERIC_COLUMNS
from waves.synthetic import generate

NAME = "synthetic-300"


def render() -> tuple[str, str]:
    estate = generate(300, seed=3, labelled_share=0.3)
    inventory = {
        "schema_version": SCHEMA_VERSION,
        "snapshot": {"source": "synthetic", "server": "waves.synthetic seed 3"},
        "vms": sorted(estate.vms, key=lambda vm: vm["name"]),
        "hosts": [],
        "clusters": estate.clusters,
        "networks": [],
        "datastores": [],
        "warnings": [],
    }
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(GENERIC_COLUMNS)
    for f in estate.flows:
        writer.writerow(
            [
                f.src_ip,
                f.dst_ip,
                f.dst_port,
                f.protocol,
                f.bytes,
                f.packets,
                f.connections,
                f.first_seen.isoformat() if f.first_seen else "",
                f.last_seen.isoformat() if f.last_seen else "",
            ]
        )
    return json.dumps(inventory, indent=1, ensure_ascii=False, sort_keys=True) + "\n", buf.getvalue()


def write_all(root: Path) -> list[Path]:
    inventory, flows = render()
    paths = [root / "inventories" / f"{NAME}.json", root / "flows" / f"{NAME}.csv"]
    for path, text in zip(paths, (inventory, flows), strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return paths


if __name__ == "__main__":
    for written in write_all(Path(sys.argv[1] if len(sys.argv) > 1 else "fixtures")):
        print(written)
