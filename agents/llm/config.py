"""Which chat model serves which task, read from the environment (never from argv).

MIGRATOR_LLM names the default model; MIGRATOR_LLM_<TASK> (INTERPRET, REFINE, ...) overrides it
per task, so interpretation can use a small model and refinement a stronger one. Unset: offline.
    openai:MODEL                                   OpenAI's API, key from OPENAI_API_KEY
    openai-compatible:http://host:port/v1#MODEL    Ollama, vLLM, llama.cpp server, ...
The API key is read from the variable named by MIGRATOR_LLM_API_KEY_ENV (default OPENAI_API_KEY)
at the moment a client is built; it is never stored in a ModelSpec, logged or recorded.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal
from urllib.parse import urlsplit

from migrator.errors import UsageError

Method = Literal["json_schema", "json_object"]
DEFAULT_MAX_TOKENS = 512
# A refinement answers with whole files: a wave's main.tf of a few VMs is 1,500-2,500 tokens as
# JSON, so 512 would cut every answer short. MIGRATOR_LLM_MAX_TOKENS overrides both.
TASK_MAX_TOKENS = {"refine": 4096}


@dataclass(frozen=True, slots=True)
class ModelSpec:
    provider: Literal["openai", "openai-compatible"]
    model: str
    base_url: str | None  # None: OpenAI's own endpoint
    method: Method  # how structured output is asked for (per endpoint)
    max_tokens: int = DEFAULT_MAX_TOKENS
    api_key_env: str = "OPENAI_API_KEY"
    rate_per_minute: float = 120.0
    timeout_s: float = 60.0

    @property
    def id(self) -> str:
        """The model's identity in cache keys and usage records (no secrets: URL and name only)."""
        return f"{self.provider}:{self.base_url}#{self.model}" if self.base_url else f"openai:{self.model}"


def parse_spec(text: str, env: Mapping[str, str] | None = None) -> ModelSpec:
    env = os.environ if env is None else env
    provider, sep, rest = text.strip().partition(":")
    if not sep or not rest:
        raise UsageError(f"MIGRATOR_LLM '{text}' is not 'openai:MODEL' or 'openai-compatible:URL#MODEL'")
    method_override = env.get("MIGRATOR_LLM_METHOD")
    extra = _numbers(env)
    key_env = env.get("MIGRATOR_LLM_API_KEY_ENV") or "OPENAI_API_KEY"
    if provider == "openai":
        method: Method = _method(method_override, "json_schema")
        return ModelSpec("openai", rest, None, method, api_key_env=key_env, **extra)
    if provider == "openai-compatible":
        url, _, model = rest.partition("#")
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or not model:
            raise UsageError(f"MIGRATOR_LLM '{text}' needs a http(s) base URL and '#model'")
        if parts.username or parts.password:
            raise UsageError("MIGRATOR_LLM must not carry credentials in its URL; use the API key variable")
        # llama.cpp's server rejects json_schema (HTTP 500) but enforces json_object with a schema
        method = _method(method_override, "json_object")
        return ModelSpec("openai-compatible", model, url.rstrip("/"), method, api_key_env=key_env, **extra)
    raise UsageError(f"MIGRATOR_LLM provider '{provider}' is not openai or openai-compatible")


def model_for(task: str, env: Mapping[str, str] | None = None) -> ModelSpec | None:
    """The model configured for a task ('interpret', 'refine', ...), or None: work offline."""
    env = os.environ if env is None else env
    text = env.get(f"MIGRATOR_LLM_{task.upper()}") or env.get("MIGRATOR_LLM")
    if not text or not text.strip():
        return None
    spec = parse_spec(text, env)
    if task in TASK_MAX_TOKENS and not env.get("MIGRATOR_LLM_MAX_TOKENS"):
        spec = replace(spec, max_tokens=TASK_MAX_TOKENS[task])
    return spec


def _method(value: str | None, default: Method) -> Method:
    if value in (None, ""):
        return default
    if value not in ("json_schema", "json_object"):
        raise UsageError(f"MIGRATOR_LLM_METHOD '{value}' is not json_schema or json_object")
    return value  # type: ignore[return-value]


def _numbers(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for var, key, kind in (
        ("MIGRATOR_LLM_MAX_TOKENS", "max_tokens", int),
        ("MIGRATOR_LLM_RATE_PER_MINUTE", "rate_per_minute", float),
        ("MIGRATOR_LLM_TIMEOUT", "timeout_s", float),
    ):
        raw = env.get(var)
        if raw:
            try:
                value = kind(raw)
            except ValueError:
                raise UsageError(f"{var} '{raw}' is not a number") from None
            if value <= 0:
                raise UsageError(f"{var} must be positive")
            out[key] = value
    return out
