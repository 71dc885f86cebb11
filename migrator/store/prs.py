"""Pull request records and what was merged."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from migrator.errors import NotFound, StoreError
from migrator.store.models import MergedWave, PullRequest
from migrator.store.snapshots import _table

PRS = _table(PullRequest)
MERGED = _table(MergedWave)


class PullRequestStore:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def add(self, record: PullRequest) -> PullRequest:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                session.add(record)
                session.flush()
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the pull request: {type(exc).__name__}") from None
        return record

    def get(self, number: int) -> PullRequest:
        with Session(self.engine, expire_on_commit=False) as session:
            record = session.get(PullRequest, number)
        if record is None:
            raise NotFound(f"no pull request #{number}: see `migrator pr list`")
        return record

    def all(self) -> list[PullRequest]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(PullRequest).order_by(PRS.c.id)).all())

    def latest_for(self, repo: str, branch: str) -> PullRequest | None:
        """The newest PR of a branch in a repository, whatever its status."""
        with Session(self.engine, expire_on_commit=False) as session:
            return session.scalars(
                select(PullRequest)
                .where(PRS.c.repo == repo, PRS.c.branch == branch)
                .order_by(PRS.c.id.desc())
            ).first()

    def update(self, number: int, change: Callable[[PullRequest], None]) -> PullRequest:
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                record = session.get(PullRequest, number)
                if record is None:
                    raise NotFound(f"no pull request #{number}")
                change(record)
                session.add(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not update pull request #{number}: {type(exc).__name__}") from None
        return record

    def add_merged(self, record: MergedWave) -> None:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the merged wave: {type(exc).__name__}") from None

    def merged(self, pr_id: int) -> list[MergedWave]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(MergedWave).where(MERGED.c.pr_id == pr_id)).all())
