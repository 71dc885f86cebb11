"""The model layer: which chat model serves a task, and asking it for schema-checked data safely."""

from agents.llm.client import ChatClient, Prompt, Usage
from agents.llm.config import ModelSpec, model_for, parse_spec

__all__ = ["ChatClient", "ModelSpec", "Prompt", "Usage", "model_for", "parse_spec"]
