"""`migrator llm usage`: calls, tokens, cost, cache hits and latency of the chat models."""

from __future__ import annotations

import typer

from migrator.app.llm import llm_usage
from migrator.cli.context import state
from migrator.cli.output import Format, render

app = typer.Typer(help="Chat-model usage (docs/agents.md).", no_args_is_help=True)
COLUMNS = [("plan_id", "Plan"), ("command", "Command"), ("model", "Model"), ("interactions", "Asked"),
           ("calls", "Calls"), ("cache_hits", "Cache hits"), ("semantic_hits", "Semantic hits"),
           ("prompt_tokens", "Tokens in"),
           ("completion_tokens", "Tokens out"), ("cost_usd", "Cost USD"), ("latency_ms", "Latency ms"),
           ("price_source", "Price from")]  # fmt: skip


@app.command("usage")
def usage(
    ctx: typer.Context,
    fmt: Format = typer.Option(Format.table, "--format", help="table, json or csv."),
) -> None:
    """Totals per plan, command and model (every interaction is recorded in the workspace)."""
    report = llm_usage(state(ctx))
    title = f"Chat-model usage: {report['total']['interactions']} interaction(s)"
    render(report["rows"], COLUMNS, fmt, title=title, json_payload=report)
