"""Pull request records and what was merged."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from migrator.errors import StoreError
from migrator.store.models import MergedWave, PullRequest
from migrator.store.records import RecordStore
from migrator.store.snapshots import _table

PRS = _table(PullRequest)
MERGED = _table(MergedWave)


class PullRequestStore(RecordStore[PullRequest]):
    model = PullRequest
    noun = "pull request"
    mark = " #"
    list_command = "migrator pr list"

    def latest_for(self, repo: str, branch: str) -> PullRequest | None:
        """The newest PR of a branch in a repository, whatever its status."""
        with Session(self.engine, expire_on_commit=False) as session:
            return session.scalars(
                select(PullRequest)
                .where(PRS.c.repo == repo, PRS.c.branch == branch)
                .order_by(PRS.c.id.desc())
            ).first()

    def add_merged(self, record: MergedWave) -> None:
        try:
            with Session(self.engine) as session, session.begin():
                session.add(record)
        except SQLAlchemyError as exc:
            raise StoreError(f"could not store the merged wave: {type(exc).__name__}") from None

    def merged(self, pr_id: int) -> list[MergedWave]:
        with Session(self.engine, expire_on_commit=False) as session:
            return list(session.scalars(select(MergedWave).where(MERGED.c.pr_id == pr_id)).all())
