"""Queued work on the dashboard (docs/scale.md): `/jobs` and `/api/jobs`, read from the store's
PostgreSQL job queue (migrator.app.jobs). A SQLite workspace has no queue: both say so."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response

from migrator.app.jobs import list_jobs, progress
from migrator.app.workspace import Workspace
from migrator.web.security import TenantWs

LIMIT = 200


def jobs_document(ws: Workspace) -> dict[str, Any]:
    """The newest jobs and their progress; `queue` is false on SQLite (no jobs, no worker)."""
    if ws.settings.uses_sqlite:
        return {"queue": False, "progress": {"by_status": {}, "batches": {}}, "jobs": []}
    jobs = list_jobs(ws, limit=LIMIT)
    return {"queue": True, "progress": progress(jobs), "jobs": [j.as_dict() for j in jobs]}


def routes(app: FastAPI, page: Any) -> None:
    @app.get("/api/jobs", tags=["jobs"])
    def api_jobs(ws: TenantWs) -> dict[str, Any]:
        """The newest 200 jobs (queued, running, finished), counts by status and per fan-out."""
        return jobs_document(ws)

    @app.get("/jobs", response_class=HTMLResponse, include_in_schema=False)
    def jobs_page(ws: TenantWs, request: Request) -> Response:
        return page(request, "jobs.html", doc=jobs_document(ws))
