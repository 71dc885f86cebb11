"""Refinement conversations: stored beside the plan, updated after every attempt."""

from __future__ import annotations

from migrator.store.models import Conversation
from migrator.store.records import RecordStore


class ConversationStore(RecordStore[Conversation]):
    model = Conversation
    noun = "conversation"
    list_command = "migrator conversations list"
