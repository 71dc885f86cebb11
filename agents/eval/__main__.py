"""`make eval`: the golden prompts against the configured model (MIGRATOR_LLM_REFINE or
MIGRATOR_LLM); prints each case and the pass rate per prompt version. MIGRATOR_EVAL_STEPS=1
measures deciding in small steps (agents/refiner/refine_steps.py). `--via mcp` (`make eval-mcp`)
runs each prompt through `migrator mcp --allow-edits` instead (agents/eval/mcp_loop.py);
`--format json` prints the table as JSON. Case ids given: only those. Exit 0 when every case
passed, 1 when some failed, 2 (USAGE) on a bad option, 11 (MODEL) when no model is configured."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path

import anyio

from agents.eval import mcp_loop
from agents.eval.golden import HEADER, Case, Outcome, as_json, load_cases, report_line, run_case, totals
from agents.llm.factory import client_for
from agents.refiner.refine_edits import PROMPT_VERSION
from agents.refiner.refine_model import ClientSeam, StructuredModel
from migrator.errors import ExitCode, MigratorError


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]  # one line, the usage exit code
        print(f"error: {message}", file=sys.stderr)
        sys.exit(int(ExitCode.USAGE))


def _options(argv: list[str]) -> argparse.Namespace:
    parser = _Parser(prog="python -m agents.eval", description=__doc__)
    parser.add_argument("cases", nargs="*", help="case ids (default: every golden case)")
    parser.add_argument("--via", choices=["direct", "mcp"], default="direct")
    parser.add_argument("--format", choices=["table", "json"], default="table")
    return parser.parse_args(argv)


def _direct(cases: list[Case], seam: StructuredModel, show: bool) -> list[Outcome]:
    outcomes = []
    for case in cases:  # each printed when done
        outcomes.append(run_case(case, seam, steps=os.environ.get("MIGRATOR_EVAL_STEPS") == "1"))
        if show:
            print(report_line(outcomes[-1]), flush=True)
    return outcomes


def _via_mcp(cases: list[Case], seam: StructuredModel, show: bool) -> list[Outcome]:
    outcomes = []
    with tempfile.TemporaryDirectory(prefix="migrator-eval-mcp-") as root:
        spaces = mcp_loop.Workspaces(Path(root))
        for case in cases:
            ws, wave = spaces.for_case(case.wave_name)
            outcome, _ = anyio.run(mcp_loop.run_case, case, seam, ws, wave)
            outcomes.append(outcome)
            if show:
                print(report_line(outcome), flush=True)
    return outcomes


def main(argv: list[str] | None = None) -> int:
    opts = _options(sys.argv[1:] if argv is None else argv)
    table = opts.format == "table"
    try:
        client = client_for("refine", None)
        if client is None:
            print("error: make eval needs a chat model: set MIGRATOR_LLM (docs/agents.md)", file=sys.stderr)
            return int(ExitCode.MODEL)
        seam = ClientSeam(client, PROMPT_VERSION, command="eval")
        if table:
            print(f"model: {client.spec.id}" + (" (via mcp)" if opts.via == "mcp" else "") + f"\n{HEADER}")
        cases = [c for c in load_cases() if not opts.cases or c.id in set(opts.cases)]
        run = _via_mcp if opts.via == "mcp" else _direct
        outcomes = run(cases, seam, table)
    except MigratorError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    if table:
        print(totals(outcomes))
    else:
        print(json.dumps({"model": client.spec.id, "via": opts.via, **as_json(outcomes)}, indent=2))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
