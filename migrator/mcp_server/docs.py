"""docs/mcp.md's tool table, generated from the registry; `python -m migrator.mcp_server.docs`
rewrites it between its markers (tests/test_mcp.py fails when the page is stale)."""

from __future__ import annotations

from pathlib import Path

from migrator.app.identities import NEEDS
from migrator.mcp_server.tools import TOOLS

BEGIN, END = "<!-- tools: generated from migrator/mcp_server/tools.py -->", "<!-- end of tools -->"


def render_tool_table() -> str:
    rows = ["| tool | kind | needs role | arguments | what it does |", "|---|---|---|---|---|"]
    for spec in TOOLS:
        kind = "change (`--allow-edits`)" if spec.changes else "read"
        role = NEEDS[spec.action] if spec.action else "viewer"
        arguments = ", ".join(f"`{name}`" for name in spec.input.model_fields) or "none"
        rows.append(f"| `{spec.name}` | {kind} | {role} | {arguments} | {spec.description} |")
    return "\n".join([BEGIN, *rows, END])


def rewrite(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    path.write_text(text[:start] + render_tool_table() + text[end:], encoding="utf-8")


if __name__ == "__main__":
    rewrite(Path(__file__).resolve().parents[2] / "docs" / "mcp.md")
