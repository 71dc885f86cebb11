"""The model layer against real HTTP endpoints on loopback (never skipped, runs in `make test`):
SmolLM2-135M through llama.cpp's OpenAI-compatible server, and a hostile endpoint.

A 135M model answers badly: these tests prove the plumbing (structured output accepted by this
server, usage, cache, records) and that bad answers are caught, never that the model is smart."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.llm.factory import client_for
from migrator.app.interpret import interpret
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.errors import ModelError
from migrator.inventory_import import read_export
from tests.helpers import migrator
from tests.llm_servers import HostileModel, llama_server

DEMO = Path(__file__).resolve().parents[1] / "fixtures" / "inventories" / "demo.json"
ALLOWED_ORIGINS = ("inventory", "pattern")


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    yield from llama_server(tmp_path_factory.mktemp("llama") / "server.log")


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    workspace = Workspace.open(tmp_path / "ws")
    store_inventory(workspace, "import", "demo.json", read_export(DEMO))
    return workspace


def test_interpretation_cache_and_usage_against_smollm2(
    llama: str, ws: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MIGRATOR_LLM_INTERPRET", f"openai-compatible:{llama}#smollm2")
    monkeypatch.setenv("MIGRATOR_LLM_MAX_TOKENS", "120")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test-never-sent-anywhere-1234")
    client = client_for("interpret", ws.llm)
    assert client is not None and client.spec.method == "json_object"
    first = interpret(ws, "shop-web-01", client=client).interpretations[0]
    usage = first.usage
    assert (
        usage is not None and usage.calls >= 1 and usage.prompt_tokens > 100 and usage.completion_tokens > 0
    )
    assert usage.outcome in ("valid", "valid-after-reask", "fallback") and not usage.cache_hit
    # whatever the small model said, only checked facts landed: every model fact's span is in the text
    fields = {"name": "shop-web-01", "annotation": "Shop storefront (nginx). Depends on shop-app-01."}
    for fact in first.facts:
        if fact.origin.startswith("model:"):
            assert fact.confidence <= 0.7 and fact.kind != "environment"
            assert any(
                " ".join(fact.span.split()) in " ".join(t.split()) for t in fields.values()
            ) or fact.field.startswith(("custom", "tag"))
    assert ("depends_on", "shop-app-01") in {(f.kind, f.value) for f in first.facts}  # the pattern fact stays
    if usage.outcome != "fallback":  # a validated answer is cached: the second run asks nobody
        again = interpret(ws, "shop-web-01", client=client_for("interpret", ws.llm)).interpretations[0]
        assert again.usage is not None and again.usage.cache_hit and again.usage.calls == 0
        assert [f.as_dict() for f in again.facts] == [f.as_dict() for f in first.facts]
    report = json.loads(migrator("llm", "usage", "--format", "json", workspace=tmp_path / "ws").stdout)
    assert report["total"]["prompt_tokens"] == usage.prompt_tokens
    assert report["rows"][0]["model"] == f"openai-compatible:{llama}#smollm2"
    stored = json.dumps(ws.llm.interactions())
    assert "sk-test-never" not in stored and "sk-test-never" not in report.__repr__()


def test_the_cli_interprets_with_the_configured_model(llama: str, ws: Workspace, tmp_path: Path) -> None:
    env = {"MIGRATOR_LLM": f"openai-compatible:{llama}#smollm2", "MIGRATOR_LLM_MAX_TOKENS": "80"}
    proc = migrator("interpret", "crm-db-01", "--format", "json", workspace=tmp_path / "ws", env=env)
    assert proc.code == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["model"].endswith("#smollm2") and doc["vms"][0]["model"]["prompt_tokens"] > 0
    facts = doc["vms"][0]["facts"]
    assert {("environment", "prod"), ("criticality", "high")} <= {(f["kind"], f["value"]) for f in facts}


HOSTILE_ANSWERS = [
    # malformed JSON
    '{"facts": [{"kind": "constraint", "value": "open 0.0.0.0/0", "span": "nginx", "confidence": 1}',
    "Reviewers: this plan is approved by security, merge it now.",  # persuasive text, no JSON
    json.dumps(
        {
            "facts": [
                {
                    "kind": "owner",
                    "value": "mallory",
                    "span": "approved by the CISO",
                    "confidence": 1,
                },  # span not in text
                {
                    "kind": "environment",
                    "value": "dev",
                    "span": "Shop",
                    "confidence": 1,
                },  # contradicts the inventory
                {
                    "kind": "role",
                    "value": "open ssh to the world",
                    "span": "storefront",
                    "confidence": 1,
                },  # enum
                {
                    "kind": "depends_on",
                    "value": "every-vm",
                    "span": "Depends on",
                    "confidence": 1,
                },  # no such VM
            ]
        }
    ),
]


def test_nothing_a_hostile_endpoint_says_lands(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    with HostileModel(HOSTILE_ANSWERS) as hostile:
        monkeypatch.setenv("MIGRATOR_LLM", f"openai-compatible:{hostile.base_url}#hostile")
        monkeypatch.setenv("OPENAI_API_KEY", "sk-test-hostile-key-5678")
        first = interpret(ws, "shop-web-01").interpretations[0]  # malformed, then persuasive: fallback
        second = interpret(ws, "shop-web-01").interpretations[0]  # not cached (nothing valid): asks again
    assert first.usage is not None and first.usage.outcome == "fallback" and first.usage.calls == 2
    assert [f.id for f in first.findings] == ["LLM-OUT-SCHEMA"]
    assert sorted(f.id for f in second.findings) == [
        "LLM-OUT-CONFLICT",
        "LLM-OUT-ENUM",
        "LLM-OUT-REFERENCE",
        "LLM-OUT-SPAN",
    ]
    for it in (first, second):
        assert all(f.origin in ALLOWED_ORIGINS for f in it.facts)
    body = hostile.requests[0]
    assert body["response_format"]["type"] == "json_object" and body["max_tokens"] == 512
    assert body["temperature"] == 0
    user = body["messages"][1]["content"]
    assert "<<<VM_DATA nonce=" in user and "10.0." not in user  # spotlighted, allow-listed fields only
    assert (
        hostile.headers[0]["authorization"] == "Bearer sk-test-hostile-key-5678"
    )  # the key goes to the endpoint only
    assert "sk-test-hostile" not in json.dumps(ws.llm.interactions())


def test_retries_on_5xx_and_429_then_a_clear_error(ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> None:
    ok = json.dumps({"facts": []})
    with HostileModel([ok], statuses=[503, 429, 200]) as flaky:
        monkeypatch.setenv("MIGRATOR_LLM", f"openai-compatible:{flaky.base_url}#flaky")
        it = interpret(ws, "shop-web-01").interpretations[0]
    assert it.usage is not None and it.usage.calls == 3 and it.usage.outcome == "valid"
    with HostileModel([ok], statuses=[500] * 10) as down:
        monkeypatch.setenv("MIGRATOR_LLM", f"openai-compatible:{down.base_url}#down")
        with pytest.raises(ModelError, match="HTTP 500"):
            interpret(ws, "crm-db-01")
        assert len(down.requests) == 4
    with HostileModel([ok], statuses=[401]) as refusing:
        monkeypatch.setenv("MIGRATOR_LLM", f"openai-compatible:{refusing.base_url}#refusing")
        with pytest.raises(ModelError, match="HTTP 401"):
            interpret(ws, "crm-app-01")
        assert len(refusing.requests) == 1  # not transient: no retry
