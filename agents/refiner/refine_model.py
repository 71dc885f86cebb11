"""The seam between refinement and a chat model: messages and a pydantic schema in, a checked
object (or the reason there is none) and token usage out.

Any LangChain chat model fits through `ChatSeam` (a real one from the model layer, or a fake
chat model that scripts answers in tests). The answer is parsed and schema-checked here, so a
malformed or off-schema answer becomes an error the loop can send back, never an exception.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
MAX_RAW = 20_000  # characters of a raw answer kept in the conversation
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


@dataclass
class Answer:
    value: BaseModel | None
    raw: str
    error: str | None = None
    usage: dict[str, int] = field(default_factory=dict)


class StructuredModel(Protocol):
    name: str

    def ask(self, messages: list[tuple[str, str]], schema: type[BaseModel]) -> Answer: ...


def parse_answer(raw: str, schema: type[BaseModel]) -> tuple[BaseModel | None, str | None]:
    """The answer as `schema`, or why it is not one (one line, fit to send back to the model)."""
    match = _FENCE.match(raw)
    text = match.group(1) if match else raw
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"the answer is not JSON ({exc.msg} at line {exc.lineno})"
    try:
        return schema.model_validate(data), None
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(root)'}: {e['msg']}" for e in exc.errors()[:5]
        )
        return None, f"the answer does not match the schema: {problems}"


class ChatSeam:
    """A LangChain chat model behind the seam (the schema goes into the system message, so it
    works with any endpoint; the model layer may bind a native structured-output mode)."""

    def __init__(self, chat: Any, name: str = "") -> None:
        self.chat = chat
        self.name = name or type(chat).__name__

    def ask(self, messages: list[tuple[str, str]], schema: type[BaseModel]) -> Answer:
        reply = self.chat.invoke(messages)
        raw = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
        value, error = parse_answer(raw, schema)
        meta = getattr(reply, "usage_metadata", None) or {}
        usage = {k: int(meta.get(k, 0)) for k in ("input_tokens", "output_tokens")}
        return Answer(value, raw[:MAX_RAW], error, usage)


class ClientSeam:
    """The model layer's ChatClient (agents.llm: routing, rate limit, retries, cache, usage and
    interaction records) behind the seam. The client takes one system and one user message, so
    the later turns (earlier answers, diagnostics) are appended to the user message; its own
    re-ask and records apply to every attempt. No deterministic fallback exists for a
    refinement: when the client falls back, the attempt has no answer and says why."""

    def __init__(self, client: Any, version: str, command: str = "plan refine") -> None:
        self.client = client
        self.name = client.spec.id
        self.version, self.command = version, command
        self.plan_id: int | None = None
        self.provenance: dict[str, Any] = {}

    def ask(self, messages: list[tuple[str, str]], schema: type[BaseModel]) -> Answer:
        from agents.llm import Prompt

        system = messages[0][1]
        user = "\n\n".join(text if role == "user" else f"<previous answer>\n{text}\n</previous answer>"
                           for role, text in messages[1:])  # fmt: skip
        prompt = Prompt("refine", self.version, system, user, dict(self.provenance))
        none = schema.model_construct()  # identity marks the fallback; never validated or used
        value, usage = self.client.structured(
            prompt, schema, lambda: none, command=self.command, plan_id=self.plan_id
        )
        counts = {
            "input_tokens": usage.prompt_tokens,
            "output_tokens": usage.completion_tokens,
            "calls": usage.calls,
            "cache_hit": int(usage.cache_hit),
        }
        if usage.interaction_id is not None:
            counts["interaction"] = usage.interaction_id
        if value is none:
            return Answer(
                None, usage.output[:MAX_RAW], "; ".join(usage.problems) or "no valid answer", counts
            )
        return Answer(value, usage.output[:MAX_RAW], None, counts)
