"""Asking a chat model for schema-checked data: rate limit, retries, cache, one re-ask, fallback, records.

`ChatClient.structured(prompt, Schema, fallback, command=...)` returns (object, Usage). The object
is always a valid `Schema` instance: the model's answer if it validates (possibly after one re-ask
that quotes the validation error), otherwise `fallback()`, the deterministic answer. Every call,
cache hit included, is recorded in the workspace (migrator.store.llm) when a store is given.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from agents.llm.config import ModelSpec
from agents.llm.prices import price_of
from agents.llm.ratelimit import TokenBucket
from agents.llm.retry import with_retries
from migrator.errors import ModelError
from migrator.store.llm import LLMStore
from migrator.store.models import LLMInteraction

if TYPE_CHECKING:  # LangChain and openai load only when a model is used: offline runs stay fast
    from langchain_core.language_models import BaseChatModel
    from langchain_core.messages import BaseMessage

S = TypeVar("S", bound=BaseModel)
REASK = (
    "Your answer was not valid for the required JSON schema: {error}. "
    "Answer again with only one JSON object that matches the schema."
)


@dataclass(frozen=True, slots=True)
class Prompt:
    task: str  # routing key: interpret | refine | ...
    version: str  # the prompt template's version: part of the cache key and of every record
    system: str
    user: str
    provenance: dict[str, Any] = field(
        default_factory=dict
    )  # where the input came from (snapshot, VM, fields)


@dataclass(slots=True)
class Usage:
    model: str
    outcome: str = "valid"  # valid | valid-after-reask | fallback
    cache_hit: bool = False
    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    price_source: str = ""
    latency_ms: int = 0
    problems: list[str] = field(default_factory=list)  # why answers were refused
    interaction_id: int | None = None
    output: str = ""  # the raw answer that was used or refused last


class ChatClient:
    def __init__(
        self,
        spec: ModelSpec,
        chat: BaseChatModel,
        store: LLMStore | None = None,
        limiter: TokenBucket | None = None,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 4,
    ) -> None:
        self.spec, self.chat, self.store = spec, chat, store
        self.limiter = limiter or TokenBucket(spec.rate_per_minute / 60.0, capacity=4, sleep=sleep)
        self._sleep, self._attempts = sleep, attempts

    def structured(
        self,
        prompt: Prompt,
        schema: type[S],
        fallback: Callable[[], S],
        *,
        command: str,
        plan_id: int | None = None,
    ) -> tuple[S, Usage]:
        usage = Usage(model=self.spec.id)
        key = cache_key(self.spec.id, prompt, schema)
        started = time.monotonic()
        result = self._from_cache(key, schema, usage)
        if result is None:
            result = self._ask(prompt, schema, usage)
            if result is not None and self.store is not None:
                self.store.remember(key, self.spec.id, prompt.version, usage.output)
        if result is None:
            usage.outcome = "fallback"
            result = fallback()
        usage.latency_ms = int((time.monotonic() - started) * 1000)
        price = price_of(self.spec.model)
        usage.cost_usd = price.cost(usage.prompt_tokens, usage.completion_tokens)
        usage.price_source = price.source
        self._record(prompt, key, usage, command, plan_id)
        return result, usage

    def _from_cache(self, key: str, schema: type[S], usage: Usage) -> S | None:
        raw = self.store.cached(key) if self.store is not None else None
        if raw is None:
            return None
        try:
            value = schema.model_validate_json(raw)
        except ValidationError:
            return None  # a cached answer the schema no longer accepts is asked again
        usage.cache_hit, usage.output = True, raw
        return value

    def _ask(self, prompt: Prompt, schema: type[S], usage: Usage) -> S | None:
        from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

        messages: list[BaseMessage] = [SystemMessage(prompt.system), HumanMessage(prompt.user)]
        for round_ in range(2):  # the answer, then one re-ask quoting why it was refused
            answer = self._invoke(messages, schema, usage)
            usage.output = answer
            try:
                value = schema.model_validate_json(strip_fences(answer))
            except ValidationError as exc:
                problem = summarise(exc)
                usage.problems.append(f"answer {round_ + 1}: {problem}")
                messages += [AIMessage(answer[:4000]), HumanMessage(REASK.format(error=problem))]
                continue
            usage.outcome = "valid" if round_ == 0 else "valid-after-reask"
            return value
        return None

    def _invoke(self, messages: list[BaseMessage], schema: type[S], usage: Usage) -> str:
        import openai

        # In extra_body, not response_format=: ChatOpenAI would take the beta parse path, which raises
        # on a truncated answer instead of letting the schema check (and the re-ask) handle it.
        bound = self.chat.bind(extra_body=request_extras(self.spec, schema))

        def once() -> BaseMessage:
            self.limiter.acquire()
            usage.calls += 1
            return bound.invoke(messages)

        try:
            reply, _ = with_retries(once, attempts=self._attempts, sleep=self._sleep)
        except openai.APIStatusError as exc:
            raise ModelError(f"the model endpoint answered HTTP {exc.status_code} ({self.spec.id})") from None
        except (openai.APIError, TimeoutError, OSError) as exc:
            raise ModelError(f"the model endpoint failed: {type(exc).__name__} ({self.spec.id})") from None
        meta = getattr(reply, "usage_metadata", None) or {}
        usage.prompt_tokens += int(meta.get("input_tokens") or 0)
        usage.completion_tokens += int(meta.get("output_tokens") or 0)
        content = reply.content
        return content if isinstance(content, str) else json.dumps(content)

    def _record(self, prompt: Prompt, key: str, usage: Usage, command: str, plan_id: int | None) -> None:
        if self.store is None:
            return
        usage.interaction_id = self.store.record(
            LLMInteraction(
                at=datetime.now(UTC),
                task=prompt.task,
                command=command,
                plan_id=plan_id,
                model=self.spec.id,
                prompt_version=prompt.version,
                input_hash=key,
                provenance=prompt.provenance,
                output=usage.output,
                outcome=usage.outcome,
                validator=usage.problems,
                cache_hit=usage.cache_hit,
                calls=usage.calls,
                latency_ms=usage.latency_ms,
                prompt_tokens=usage.prompt_tokens,
                completion_tokens=usage.completion_tokens,
                cost_usd=usage.cost_usd,
                price_source=usage.price_source,
            )
        )


def response_format(spec: ModelSpec, schema: type[BaseModel]) -> dict[str, Any]:
    """json_schema for OpenAI (strict when the schema can be); json_object with the schema for
    llama.cpp-style servers (a grammar)."""
    body = schema.model_json_schema()
    if spec.method == "json_schema":
        strict = strict_schema(body)
        return {
            "type": "json_schema",
            "json_schema": {"name": schema.__name__, "schema": strict or body, "strict": strict is not None},
        }
    return {"type": "json_object", "schema": body}


def strict_schema(node: Any) -> Any:
    """The schema as OpenAI's strict mode takes it: every object closed and every property
    required, defaults dropped. A field that may be None keeps its null branch; a field with a
    default must then be given, which pydantic accepts as well. None when some object is an open
    mapping (a dict of tags), which strict mode cannot say: then the request is not strict."""
    if isinstance(node, list):
        items = [strict_schema(item) for item in node]
        return (
            None if any(i is None for i, raw in zip(items, node, strict=True) if raw is not None) else items
        )
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key == "default":
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):  # names, not keywords
            converted: Any = {name: strict_schema(sub) for name, sub in value.items()}
            if any(sub is None for sub in converted.values()):
                return None
        else:
            converted = strict_schema(value) if isinstance(value, dict | list) else value
            if converted is None and value is not None:
                return None
        out[key] = converted
    if node.get("type") == "object" or "properties" in node:
        if "properties" not in node or node.get("additionalProperties") not in (None, False):
            return None
        out["additionalProperties"] = False
        out["required"] = list(node["properties"])
    return out


def request_extras(spec: ModelSpec, schema: type[BaseModel]) -> dict[str, Any]:
    """The body fields that bound and shape the answer (ChatOpenAI(max_tokens=) sends
    max_completion_tokens, which llama.cpp's server ignores; OpenAI's newer models want it)."""
    limit = "max_completion_tokens" if spec.provider == "openai" else "max_tokens"
    return {limit: spec.max_tokens, "response_format": response_format(spec, schema)}


def cache_key(model: str, prompt: Prompt, schema: type[BaseModel]) -> str:
    material = json.dumps([model, prompt.version, schema.__name__, prompt.system, prompt.user])
    return hashlib.sha256(material.encode("utf-8")).hexdigest()


def strip_fences(text: str) -> str:
    """Models like to wrap JSON in ``` fences; the schema check still decides."""
    text = text.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text.strip()


def summarise(exc: ValidationError) -> str:
    """The first few problems with their locations, without echoing the (untrusted) input values."""
    parts = [f"{'.'.join(str(p) for p in e['loc']) or 'answer'}: {e['msg']}" for e in exc.errors()[:5]]
    return "; ".join(parts)[:500]
