"""The golden prompts through `migrator mcp --allow-edits` (`make eval-mcp`, `python -m agents.eval
--via mcp`): a scripted agent that, per prompt, starts the server over stdio with the SDK's
ClientSession on a workspace planned with the prompt's wave (agents/eval/mcp_workspace.py),
reads the wave's edit schema and VMs, asks the configured model under the refiner's own prompt
and schema, checks the answer with `propose_edits` and `preview_edits` (their problems go back
to the model, as in `make eval`), and calls `apply_edits` only when the preview is clean. The
stored edits are then scored exactly as `make eval` scores (agents/eval/golden.py judge).

The prompt is built from the golden wave's facts (the same text `make eval` sends, so the two
tables compare); the server's wave schema must be the one that prompt was built for, else the
case fails with that problem."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from mcp import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.types import Implementation

from agents.eval.golden import WAVES, Case, Outcome, judge
from agents.eval.mcp_workspace import prepare
from agents.refiner import refine_edit_graph
from agents.refiner.refine_edits import MODEL_KINDS, answer_schema, expand, facts, foreign_names
from agents.refiner.refine_model import StructuredModel

CLIENT = Implementation(name="migrator-eval-mcp", version="1.0")
FEEDBACK = "Those edits were refused. Fix them or answer with no edits (JSON only):\n"


@dataclass
class Trace:
    """What the agent did over MCP: every preview's verdict and what apply_edits stored."""

    case: str
    previews: list[bool] = field(default_factory=list)  # accepted, per preview_edits call
    applied: list[dict[str, Any]] = field(default_factory=list)  # the edits apply_edits stored
    applied_after_clean_preview: bool = True
    stored: list[dict[str, Any]] = field(default_factory=list)  # list_edits of source agent, after


class ToolError(Exception):
    pass


@asynccontextmanager
async def session(ws: Path) -> AsyncIterator[ClientSession]:
    """`migrator mcp --allow-edits` on `ws` as a subprocess; the model settings stay with the agent."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
    argv = ["-m", "migrator", "--workspace", str(ws), "mcp", "--allow-edits"]
    params = StdioServerParameters(command=sys.executable, args=argv, env=env)
    with open(os.devnull, "w") as errlog:
        async with (
            stdio_client(params, errlog=errlog) as (read, write),
            ClientSession(read, write, client_info=CLIENT) as s,
        ):
            await s.initialize()
            yield s


async def call(s: ClientSession, tool: str, **arguments: Any) -> Any:
    result = await s.call_tool(tool, arguments)
    if result.is_error:
        text = " ".join(getattr(c, "text", "") for c in result.content)
        raise ToolError(f"{tool}: {text[:300]}")
    return result.structured_content


def _lines(problems: list[dict[str, Any]]) -> list[str]:
    return sorted({f"{p.get('rule', '')}: {p.get('message', '')}" for p in problems})


async def _check(
    s: ClientSession, case: Case, wave: int, edits: list[dict[str, Any]], trace: Trace
) -> list[str]:
    """propose_edits, then preview_edits: the problems, none when the preview is clean."""
    args = {"target": case.target, "wave": wave, "edits": edits}
    try:
        proposal = await call(s, "propose_edits", **args)
        if not proposal["accepted"]:
            return _lines(proposal["problems"])
        preview = await call(s, "preview_edits", **args)
    except ToolError as exc:  # an edit the tool's input model refuses: said back to the model
        return [str(exc)]
    trace.previews.append(bool(preview["accepted"]))
    return [] if preview["accepted"] else _lines(preview["problems"])


async def _attempt(
    s: ClientSession, case: Case, wave: int, model: StructuredModel, state: dict[str, Any], trace: Trace
) -> list[str] | None:
    """One model answer checked over MCP: None ends the loop (empty answer or applied)."""
    schema = answer_schema(case.target, case.wave)
    answer = await anyio.to_thread.run_sync(model.ask, [(r, t) for r, t in state["messages"]], schema)
    state["attempts"].append({"number": len(state["attempts"]) + 1, "raw": answer.raw, "usage": answer.usage})
    state["messages"].append(["assistant", answer.raw])
    if answer.value is None:
        return [f"REFINE-INVALID-ANSWER: {answer.error or 'no answer'}"]
    data = answer.value.model_dump(mode="json")
    state["question"] = data.get("question", "")
    if not data["edits"]:
        state["status"] = "empty"
        return None
    expanded = expand(case.wave, data["edits"])
    mine = [f"REFINE-EDIT-INVALID: {p}" for p in expanded.problems]
    if mine and not expanded.rejected:  # a selector or disk the wave lacks: nothing to send
        return mine
    # forms that failed their edit's own checks (a world-open port) go to the server as well: it
    # is the authority this loop measures, and must refuse them itself
    edits = [e.model_dump(mode="json") for e in expanded.edits] + expanded.rejected
    problems = await _check(s, case, wave, edits, trace)
    if mine:
        return sorted({*mine, *problems}) if problems else ["the server accepted an edit its model refuses"]
    if problems:
        return problems
    trace.applied_after_clean_preview &= bool(trace.previews and trace.previews[-1])
    applied = await call(s, "apply_edits", target=case.target, wave=wave, edits=edits, reason=case.request)
    trace.applied.extend(edits)
    state.update(status="valid", result=edits if applied["edits"] else [])
    return None


def _unordered(value: Any) -> Any:
    """A schema with its enumerations as sets: the plan lists a wave's VMs by name, the facts
    file in its own order; the choices are what must agree."""
    if isinstance(value, dict):
        return {k: _unordered(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [_unordered(v) for v in value]
        return frozenset(items) if all(isinstance(v, str) for v in items) else items
    return value


async def _converse(
    s: ClientSession, case: Case, wave: int, model: StructuredModel, attempts: int
) -> tuple[dict[str, Any], Trace]:
    """The refiner's loop with the MCP tools as its check; the final state in make eval's shape."""
    trace = Trace(case.id)
    served = (await call(s, "edit_schema", target=case.target, wave=wave))["wave_schema"]
    if _unordered(served) != _unordered(answer_schema(case.target, case.wave).model_json_schema()):
        raise ToolError("edit_schema: the workspace's wave is not the golden wave the prompt describes")
    await call(s, "show_wave", wave=wave)  # the agent reads the wave as any client would
    start = refine_edit_graph.initial_state(
        case.target, case.request, facts(case.wave, []), MODEL_KINDS[case.target], attempts
    )
    state: dict[str, Any] = {**start, "messages": [list(m) for m in start["messages"]]}
    previous: list[str] | None = None
    for _ in range(attempts):
        problems = await _attempt(s, case, wave, model, state, trace)
        if problems is None:
            break
        state["attempts"][-1]["diagnostics"] = problems
        if problems == previous:  # the same problems twice: stop, as make eval does
            break
        previous = problems
        state["messages"].append(["user", FEEDBACK + "\n".join(problems[: refine_edit_graph.MAX_FEEDBACK])])
    if state["status"] == "running":
        state["status"] = "failed"
    listed = (await call(s, "list_edits", limit=200))["edits"]
    trace.stored = [e for e in listed if e["source"] == "agent"]  # not the workspace's pins
    return state, trace


def empty_state() -> dict[str, Any]:
    return {"status": "empty", "attempts": [], "result": [], "question": ""}


async def run_case(
    case: Case, model: StructuredModel, ws: Path, wave: int, attempts: int = 4
) -> tuple[Outcome, Trace]:
    """One golden case over MCP on its own workspace `ws`; scored by make eval's judge."""
    if foreign_names(case.request, case.wave):  # caught before asking, as make eval does
        return judge(case, empty_state()), Trace(case.id)
    async with session(ws) as s:
        try:
            state, trace = await _converse(s, case, wave, model, attempts)
        except ToolError as exc:  # inside the session: its task group would wrap the error
            outcome = judge(case, empty_state())
            outcome.problems.append(str(exc))
            return outcome, Trace(case.id)
    return judge(case, state), trace


class Workspaces:
    """A planned workspace per golden wave, copied fresh for every case (apply_edits stores)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.templates: dict[str, tuple[Path, int]] = {}
        self.count = 0

    def for_case(self, wave_name: str) -> tuple[Path, int]:
        if wave_name not in self.templates:
            template = self.root / "template" / wave_name
            self.templates[wave_name] = (template, prepare(WAVES / f"{wave_name}.yaml", template))
        template, number = self.templates[wave_name]
        self.count += 1
        ws = self.root / f"case-{self.count}"
        shutil.copytree(template, ws)
        return ws, number
