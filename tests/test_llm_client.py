"""The model layer's control flow with scripted chat models: configuration and routing, the token
bucket, retries with backoff on transient errors only, re-ask then fallback, cache, prices."""

from __future__ import annotations

import json
import random
from pathlib import Path

import httpx
import openai
import pytest
from pydantic import BaseModel

from agents.llm.client import Prompt, cache_key, request_extras
from agents.llm.config import model_for, parse_spec
from agents.llm.factory import chat_model
from agents.llm.prices import price_of
from agents.llm.ratelimit import TokenBucket
from agents.llm.retry import transient, with_retries
from migrator.app.workspace import Workspace
from migrator.errors import ModelError, UsageError
from tests.llm_helpers import scripted_client


class Answer(BaseModel):
    n: int


PROMPT = Prompt("interpret", "t-v1", "system", "user", {"vm": "x"})


def _status(code: int) -> openai.APIStatusError:
    response = httpx.Response(code, request=httpx.Request("POST", "http://127.0.0.1/v1/chat/completions"))
    cls = {429: openai.RateLimitError, 401: openai.AuthenticationError}.get(code, openai.InternalServerError)
    return cls("failed", response=response, body=None)


def test_routing_per_task_and_offline_default() -> None:
    env = {
        "MIGRATOR_LLM": "openai:gpt-4o",
        "MIGRATOR_LLM_INTERPRET": "openai-compatible:http://127.0.0.1:8080/v1#smol",
    }
    interpret, refine = model_for("interpret", env), model_for("refine", env)
    assert interpret is not None and interpret.model == "smol" and interpret.method == "json_object"
    assert refine is not None and refine.model == "gpt-4o" and refine.method == "json_schema"
    assert (interpret.max_tokens, refine.max_tokens) == (512, 4096)  # a refinement answers whole files
    bounded = model_for("refine", {**env, "MIGRATOR_LLM_MAX_TOKENS": "9000"})
    assert bounded is not None and bounded.max_tokens == 9000
    assert model_for("interpret", {}) is None  # unset: offline
    assert parse_spec("openai:m", {"MIGRATOR_LLM_METHOD": "json_object"}).method == "json_object"
    for bad in (
        "gpt-4o",
        "anthropic:x",
        "openai-compatible:ftp://h/v1#m",
        "openai-compatible:http://h/v1",
        "openai-compatible:http://user:pw@h/v1#m",
    ):
        with pytest.raises(UsageError):
            parse_spec(bad, {})
    with pytest.raises(UsageError, match="MIGRATOR_LLM_MAX_TOKENS"):
        parse_spec("openai:m", {"MIGRATOR_LLM_MAX_TOKENS": "lots"})


def test_openai_needs_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(ModelError, match="OPENAI_API_KEY is not set"):
        chat_model(parse_spec("openai:gpt-4o-mini", {}))
    monkeypatch.setenv("MY_KEY", "sk-from-my-var")
    spec = parse_spec("openai:gpt-4o-mini", {"MIGRATOR_LLM_API_KEY_ENV": "MY_KEY"})
    assert "sk-from" not in repr(spec) and "sk-from" not in spec.id
    model = chat_model(spec)
    assert "sk-from-my-var" not in repr(model)  # SecretStr


def test_request_bounds_and_shapes_the_answer_per_endpoint() -> None:
    local = request_extras(parse_spec("openai-compatible:http://h:1/v1#m", {}), Answer)
    assert local["max_tokens"] == 512 and local["response_format"]["type"] == "json_object"
    assert local["response_format"]["schema"]["properties"]["n"]["type"] == "integer"
    cloud = request_extras(parse_spec("openai:gpt-4o-mini", {"MIGRATOR_LLM_MAX_TOKENS": "64"}), Answer)
    assert cloud["max_completion_tokens"] == 64 and cloud["response_format"]["type"] == "json_schema"


def test_token_bucket_spaces_requests() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(s: float) -> None:
        slept.append(s)
        now[0] += s

    bucket = TokenBucket(rate=2.0, capacity=2, clock=lambda: now[0], sleep=sleep)
    waits = [bucket.acquire() for _ in range(5)]
    assert waits[:2] == [0.0, 0.0] and all(w > 0 for w in waits[2:])
    assert now[0] == pytest.approx(1.5)  # 5 requests at 2/s with a burst of 2


def test_retries_only_transient_errors_with_growing_jittered_backoff() -> None:
    assert transient(_status(429)) and transient(_status(503)) and not transient(_status(401))
    calls, slept = [], []

    def flaky() -> str:
        calls.append(1)
        if len(calls) < 3:
            raise _status(503)
        return "ok"

    assert with_retries(flaky, sleep=slept.append, rng=random.Random(1)) == ("ok", 3)
    assert len(slept) == 2 and slept[0] <= 0.5 and slept[1] <= 1.0
    with pytest.raises(openai.AuthenticationError):
        with_retries(lambda: (_ for _ in ()).throw(_status(401)), sleep=slept.append)
    assert len(slept) == 2


def test_rate_limited_then_answered_and_accounted(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    client, chat = scripted_client([_status(429), _status(500), {"n": 1}], ws.llm)
    value, usage = client.structured(PROMPT, Answer, lambda: Answer(n=0), command="test", plan_id=7)
    assert value == Answer(n=1) and usage.calls == 3 and usage.outcome == "valid"
    assert usage.prompt_tokens == 100 and usage.completion_tokens == 20
    assert chat.kwargs[0]["extra_body"]["response_format"]["type"] == "json_object"
    [row] = ws.llm.usage()
    assert row["plan_id"] == 7 and row["calls"] == 3 and row["cache_hits"] == 0


def test_reask_once_then_fallback_and_cache_only_valid_answers(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    client, _ = scripted_client(['```json\n{"n": "x"}\n```', '{"n": 2}'], ws.llm)
    value, usage = client.structured(PROMPT, Answer, lambda: Answer(n=0), command="test")
    assert value == Answer(n=2) and usage.outcome == "valid-after-reask" and len(usage.problems) == 1
    assert "n: Input should be a valid integer" in usage.problems[0]
    cached_client, cached_chat = scripted_client([], ws.llm)
    again, usage2 = cached_client.structured(PROMPT, Answer, lambda: Answer(n=0), command="test")
    assert again == Answer(n=2) and usage2.cache_hit and cached_chat.sent == []
    other = Prompt("interpret", "t-v2", "system", "user")  # a new prompt version is a new key
    assert cache_key("m", other, Answer) != cache_key("m", PROMPT, Answer)
    bad_client, _ = scripted_client(["no", "still no"], ws.llm)
    value3, usage3 = bad_client.structured(other, Answer, lambda: Answer(n=-1), command="test")
    assert value3 == Answer(n=-1) and usage3.outcome == "fallback" and len(usage3.problems) == 2
    assert ws.llm.cached(cache_key(bad_client.spec.id, other, Answer)) is None
    outcomes = [r["outcome"] for r in ws.llm.interactions()]
    assert outcomes == ["fallback", "valid", "valid-after-reask"]


def test_price_table_with_provenance(tmp_path: Path) -> None:
    built_in = price_of("gpt-4o-mini", "")
    assert built_in.cost(1_000_000, 1_000_000) == pytest.approx(0.75) and "openai.com" in built_in.source
    table = tmp_path / "prices.json"
    table.write_text(
        json.dumps({"gpt-4o-mini": {"input_per_mtok": 1, "output_per_mtok": 2, "source": "contract 2026"}})
    )
    mine = price_of("gpt-4o-mini", str(table))
    assert mine.cost(1_000_000, 500_000) == pytest.approx(2.0) and mine.source == "contract 2026"
    assert price_of("local-model", "").source.startswith("unknown price")
    table.write_text("[1, 2")
    with pytest.raises(UsageError, match="not a price table"):
        price_of("gpt-4o-mini", str(table))
