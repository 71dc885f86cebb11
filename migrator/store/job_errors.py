"""Why queued jobs failed (table `job_errors`, revision 0018; docs/scale.md#jobs)."""

from __future__ import annotations

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from migrator.store.models import JobError
from migrator.store.snapshots import _table, now

JOB_ERRORS = _table(JobError)
MAX_LENGTH = 300  # one line: the reason, not a report


def record_job_error(engine: Engine, job_id: int, attempt: int, error: str) -> bool:
    """Store one attempt's reason in its own transaction; False when the store cannot take it
    (the job fails anyway and the worker's log still says why)."""
    line = (error.splitlines() or [""])[0][:MAX_LENGTH]
    try:
        with engine.begin() as conn:
            conn.execute(insert(JOB_ERRORS).values(job_id=job_id, attempt=attempt, error=line, at=now()))
    except SQLAlchemyError:
        return False
    return True
