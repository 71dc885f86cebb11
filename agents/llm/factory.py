"""Building the LangChain chat model for a task from its ModelSpec (the one place a key is read)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from pydantic import SecretStr

from agents.llm.client import ChatClient
from agents.llm.config import ModelSpec, model_for
from migrator.errors import ModelError
from migrator.store.llm import LLMStore

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel


def chat_model(spec: ModelSpec) -> BaseChatModel:
    from langchain_openai import ChatOpenAI  # imported late: offline runs never load it

    key = os.environ.get(spec.api_key_env)
    if not key and spec.provider == "openai":
        raise ModelError(f"{spec.api_key_env} is not set: OpenAI needs an API key in the environment")
    return ChatOpenAI(
        model=spec.model,
        base_url=spec.base_url,
        api_key=SecretStr(key or "not-needed"),  # local servers ignore it; the client requires one
        temperature=0,
        max_retries=0,  # ChatClient retries with its own backoff, jitter and accounting
        timeout=spec.timeout_s,
        # the answer's bound and shape go in extra_body per call (ChatClient.request_extras)
    )


def client_for(task: str, store: LLMStore | None) -> ChatClient | None:
    """The configured model for a task, ready to call; None when none is configured (offline)."""
    spec = model_for(task)
    return None if spec is None else ChatClient(spec, chat_model(spec), store)
