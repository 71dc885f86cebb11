"""Scripted chat models for control-flow tests of the model layer (the real server is in test_llm_real.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from pydantic import Field

from agents.llm.client import ChatClient
from agents.llm.config import parse_spec
from migrator.store.llm import LLMStore


class ScriptedChat(BaseChatModel):
    """Answers with the next scripted item; an exception item is raised. Records what it was sent."""

    script: list[Any]
    sent: list[list[BaseMessage]] = Field(default_factory=list)
    kwargs: list[dict[str, Any]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kw: Any
    ) -> ChatResult:
        self.sent.append(list(messages))
        self.kwargs.append(kw)
        if not self.script:
            raise AssertionError("the model was called more often than scripted")
        item = self.script.pop(0)
        if isinstance(item, BaseException):
            raise item
        text = item if isinstance(item, str) else json.dumps(item)
        usage = {"input_tokens": 100, "output_tokens": 20, "total_tokens": 120}
        return ChatResult(generations=[ChatGeneration(message=AIMessage(text, usage_metadata=usage))])


def scripted_client(
    script: Sequence[Any],
    store: LLMStore | None = None,
    spec: str = "openai-compatible:http://127.0.0.1:9/v1#fake",
) -> tuple[ChatClient, ScriptedChat]:
    chat = ScriptedChat(script=list(script), sent=[], kwargs=[])
    return ChatClient(parse_spec(spec, env={}), chat, store, sleep=lambda s: None), chat
