"""Stored learning (docs/learning.md): examples from merged pull requests and the corrections
generalised from them. Data only; what they mean is waves/learning.py."""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from migrator.errors import NotFound, StoreError
from migrator.store.models import LearnedCorrection, LearningExample, PlanEdit
from migrator.store.snapshots import _table, now
from migrator.timefmt import iso_utc

EXAMPLES = _table(LearningExample)
CORRECTIONS = _table(LearnedCorrection)
EDITS = _table(PlanEdit)


def correction_dict(row: LearnedCorrection) -> dict[str, Any]:
    data = row.model_dump(exclude={"created_at", "updated_at"})
    data["created_at"] = iso_utc(row.created_at)
    data["updated_at"] = iso_utc(row.updated_at)
    return data


class LearningStore:
    def __init__(self, engine: Any) -> None:
        self.engine = engine

    def _write(self, what: str, rows: builtins.list[Any]) -> None:
        try:
            with Session(self.engine) as session, session.begin():
                session.add_all(rows)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store {what}: {type(exc).__name__}") from None

    def known_prs(self) -> set[int]:
        with Session(self.engine) as session:
            return set(session.scalars(select(EXAMPLES.c.pr).distinct()).all())

    def add_examples(self, rows: builtins.list[LearningExample]) -> None:
        self._write("the learning examples", rows)

    def examples(self) -> builtins.list[LearningExample]:
        """Every example, oldest merge first."""
        with Session(self.engine, expire_on_commit=False) as session:
            stmt = select(LearningExample).order_by(EXAMPLES.c.merged_at, EXAMPLES.c.pr, EXAMPLES.c.id)
            return list(session.scalars(stmt).all())

    def corrections(self) -> builtins.list[LearnedCorrection]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(LearnedCorrection).order_by(CORRECTIONS.c.id)).all())

    def correction(self, correction_id: int) -> LearnedCorrection:
        with Session(self.engine, expire_on_commit=False) as session:
            row = session.get(LearnedCorrection, correction_id)
            if row is None:
                raise NotFound(f"no learned correction with id {correction_id} (see migrator learn status)")
            return row

    def save_corrections(self, rows: builtins.list[LearnedCorrection]) -> None:
        for row in rows:
            row.updated_at = now()
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                for row in rows:
                    session.merge(row) if row.id is not None else session.add(row)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the learned corrections: {type(exc).__name__}") from None

    def delete_learned_edits(self, who: str, status: str | None = None) -> int:
        """Remove the plan edits a correction derived (source learned, who = the correction),
        or only those with one status."""
        stmt = delete(EDITS).where(EDITS.c.source == "learned", EDITS.c.who == who)
        if status is not None:
            stmt = stmt.where(EDITS.c.status == status)
        try:
            with self.engine.begin() as conn:
                result = conn.execute(stmt)
                return int(result.rowcount or 0)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not remove the learned edits: {type(exc).__name__}") from None
