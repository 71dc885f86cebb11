"""The real Mermaid parser (npm `mermaid` under node), installed on demand by the project's script."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MERMAID_DIR = Path(os.environ.get("MIGRATOR_MERMAID_DIR") or Path.home() / ".cache" / "migrator" / "mermaid")
BLOCK = re.compile(r"^(`{3,})mermaid\n(.*?)\n\1$", re.S | re.M)


def mermaid_blocks(markdown: str) -> list[str]:
    return [m.group(2) + "\n" for m in BLOCK.finditer(markdown)]


def parse_mermaid(sources: list[str]) -> list[dict[str, object]]:
    """Parse each diagram with mermaid.parse(); no skip: node and npm are project dependencies."""
    subprocess.run(["bash", str(ROOT / "scripts" / "install-mermaid.sh")], check=True, timeout=600)
    proc = subprocess.run(
        ["node", str(MERMAID_DIR / "parse.mjs")],
        input=json.dumps(sources),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results: list[dict[str, object]] = json.loads(proc.stdout)
    return results
