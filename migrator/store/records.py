"""One table of numbered records: add, get, list and update under one transaction each.

Pull requests and conversations share this shape; only their wording differs, so the
stores are this class with a noun and the command that lists them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, SQLModel

from migrator.errors import NotFound, StoreError
from migrator.store.snapshots import _table

Record = TypeVar("Record", bound=SQLModel)


class RecordStore(Generic[Record]):
    model: type[Record]
    noun: str  # "pull request"
    mark: str = " "  # between noun and number: "pull request #3", "conversation 3"
    list_command: str  # where a user finds the valid numbers

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.table = _table(self.model)

    def label(self, number: int) -> str:
        return f"{self.noun}{self.mark}{number}"

    def add(self, record: Record) -> Record:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                session.add(record)
                session.flush()
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the {self.noun}: {type(exc).__name__}") from None
        return record

    def get(self, number: int) -> Record:
        with Session(self.engine, expire_on_commit=False) as session:
            record = session.get(self.model, number)
        if record is None:
            raise NotFound(f"no {self.label(number)}: see `{self.list_command}`")
        return record

    def all(self) -> list[Record]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(self.model).order_by(self.table.c.id)).all())

    def update(self, number: int, change: Callable[[Record], None]) -> Record:
        """Read, change and write one record in a transaction that locks its row."""
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                record = session.get(self.model, number, with_for_update=True)
                if record is None:
                    raise NotFound(f"no {self.label(number)}")
                change(record)
                session.add(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not update {self.label(number)}: {type(exc).__name__}") from None
        return record
