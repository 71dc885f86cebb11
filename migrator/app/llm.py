"""`migrator llm usage`: what the chat models cost, per plan, command and model."""

from __future__ import annotations

from typing import Any

from migrator.app.workspace import Workspace


def llm_usage(ws: Workspace) -> dict[str, Any]:
    rows = ws.llm.usage()
    total = {
        key: sum(r[key] or 0 for r in rows)
        for key in (
            "interactions",
            "calls",
            "cache_hits",
            "semantic_hits",
            "prompt_tokens",
            "completion_tokens",
            "latency_ms",
        )
    }
    total["cost_usd"] = round(sum(r["cost_usd"] for r in rows), 6)
    return {"rows": rows, "total": total}
