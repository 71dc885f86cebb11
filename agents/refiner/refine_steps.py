"""Deciding in small steps: the kind of edit, then its target, then its values, each one tiny
schema-constrained call, assembled into the wave's answer (an experiment for small models,
../shared/GUIDE.md "Structured answers from small models"; `make eval` measures it with
MIGRATOR_EVAL_STEPS=1).

The model decides every step; the steps only narrow what one call may say. One step's answer
is shown to the next as a previous answer, so a local server reuses the evaluated prompt.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, ValidationError, create_model

from agents.refiner.refine_edits import DEFAULT_REGION, MODEL_KINDS, proposal_models
from agents.refiner.refine_model import Answer, StructuredModel
from transpilers.model import WaveInput

NOTHING = "nothing"
STEP_KIND = 'Step 1: which kind of edit does the request ask for? Answer {"kind": ...}; ' + (
    f'"{NOTHING}" when no edit should be made.'
)
STEP_TARGET = 'Step 2: which VMs does the request mean? Answer {"target": ...} from the wave facts.'
STEP_VALUES = "Step 3: the values of that {kind} edit, from the request. Answer JSON."


class StepwiseModel:
    """A StructuredModel answering the wave's edit schema in up to three small calls."""

    def __init__(
        self, model: StructuredModel, target: str, wave: WaveInput, region: str = DEFAULT_REGION
    ) -> None:
        self.model, self.name = model, model.name
        self.kinds = MODEL_KINDS[target]
        self.models = proposal_models(target, wave, region)

    def ask(self, messages: list[tuple[str, str]], schema: type[BaseModel]) -> Answer:
        turns = list(messages)
        usage: dict[str, int] = {}
        kind_model = _closed("Kind", kind=(Literal[(*self.kinds, NOTHING)], ...))
        first = self._step(turns, STEP_KIND, kind_model, usage)
        if first.value is None:
            return first
        kind = str(first.value.model_dump()["kind"])
        if kind == NOTHING:
            return _answer(schema, [], usage)
        fields = self.models[kind].model_fields
        chosen: dict[str, Any] = {"kind": kind}
        if "target" in fields:
            target_model = _closed("Target", target=(fields["target"].annotation, ...))
            second = self._step(turns, STEP_TARGET, target_model, usage)
            if second.value is None:
                return second
            chosen |= second.value.model_dump(mode="json")
        rest = {n: (f.annotation, f) for n, f in fields.items() if n not in ("kind", "target")}
        if rest:
            third = self._step(turns, STEP_VALUES.format(kind=kind), _closed("Values", **rest), usage)
            if third.value is None:
                return third
            chosen |= third.value.model_dump(mode="json")
        return _answer(schema, [chosen], usage)

    def _step(
        self, turns: list[tuple[str, str]], ask: str, model: type[BaseModel], usage: dict[str, int]
    ) -> Answer:
        turns.append(("user", ask))
        got = self.model.ask(list(turns), model)
        turns.append(("assistant", got.raw))
        for key, value in got.usage.items():
            if key in ("input_tokens", "output_tokens", "calls"):
                usage[key] = usage.get(key, 0) + int(value)
        return Answer(got.value, got.raw, got.error, dict(usage))


def _closed(name: str, **fields: Any) -> type[BaseModel]:
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


def _answer(schema: type[BaseModel], edits: list[dict[str, Any]], usage: dict[str, int]) -> Answer:
    data = {"edits": edits, "question": ""}
    raw = json.dumps(data)
    try:
        return Answer(schema.model_validate(data), raw, None, usage)
    except ValidationError as exc:
        return Answer(None, raw, f"the steps do not make an edit: {exc.errors()[0]['msg']}", usage)
