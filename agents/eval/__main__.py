"""`make eval`: the golden prompts against the configured model (MIGRATOR_LLM_REFINE or
MIGRATOR_LLM); prints each case and the pass rate per prompt version. MIGRATOR_EVAL_STEPS=1
measures deciding in small steps (agents/refiner/refine_steps.py). Exit 0 when every case
passed, 1 when some failed, 11 (MODEL) when no model is configured."""

from __future__ import annotations

import os
import sys

from agents.eval.golden import HEADER, load_cases, report_line, run_case, totals
from agents.llm.factory import client_for
from agents.refiner.refine_edits import PROMPT_VERSION
from agents.refiner.refine_model import ClientSeam
from migrator.errors import ExitCode, MigratorError


def main() -> int:
    try:
        client = client_for("refine", None)
        if client is None:
            print("error: make eval needs a chat model: set MIGRATOR_LLM (docs/agents.md)", file=sys.stderr)
            return int(ExitCode.MODEL)
        seam = ClientSeam(client, PROMPT_VERSION, command="eval")
        print(f"model: {client.spec.id}\n{HEADER}", flush=True)
        outcomes = []
        only = set(sys.argv[1:])  # case ids given: only those (a quick check on a slow machine)
        for case in [c for c in load_cases() if not only or c.id in only]:  # each printed when done
            outcomes.append(run_case(case, seam, steps=os.environ.get("MIGRATOR_EVAL_STEPS") == "1"))
            print(report_line(outcomes[-1]), flush=True)
    except MigratorError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return int(exc.exit_code)
    print(totals(outcomes))
    return 0 if all(o.passed for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
