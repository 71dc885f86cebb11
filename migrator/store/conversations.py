"""Refinement conversations: stored beside the plan, updated after every attempt."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from migrator.errors import NotFound, StoreError
from migrator.store.models import Conversation
from migrator.store.snapshots import _table

CONVERSATIONS = _table(Conversation)


class ConversationStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: Conversation) -> Conversation:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                session.add(record)
                session.flush()
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the conversation: {type(exc).__name__}") from None
        return record

    def get(self, number: int) -> Conversation:
        with Session(self.engine, expire_on_commit=False) as session:
            record = session.get(Conversation, number)
        if record is None:
            raise NotFound(f"no conversation {number}: see `migrator conversations list`")
        return record

    def all(self) -> list[Conversation]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(Conversation).order_by(CONVERSATIONS.c.id)).all())

    def update(self, number: int, change: Callable[[Conversation], None]) -> Conversation:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                record = session.get(Conversation, number, with_for_update=True)
                if record is None:
                    raise NotFound(f"no conversation {number}")
                change(record)
                session.add(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not update the conversation: {type(exc).__name__}") from None
        return record
