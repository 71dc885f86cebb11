"""What-if pinning and drift on the dashboard: thin routes over migrator.app.whatif / snapshot_diff / cmdb."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel, Field

from migrator.app.cmdb import drift
from migrator.app.identities import Actor
from migrator.app.snapshot_diff import diff_snapshots
from migrator.app.whatif import apply_pin, apply_unpin, preview_pin, preview_unpin
from migrator.app.workspace import Workspace
from migrator.errors import NotFound
from migrator.web import views
from migrator.web.security import TenantWs

MAX_ID = 2**31 - 1  # ids within the store's INTEGER (a fresh Query per parameter: FastAPI binds it)


class Pin(BaseModel):
    vm: str = Field(max_length=2000)
    wave: int | None = Field(None, ge=0, le=MAX_ID)  # None: unpin


def snapshot_rows(ws: Workspace) -> list[dict[str, Any]]:
    return [
        {
            "id": s.id,
            "source": s.source,
            "server": s.server,
            "status": s.status,
            "vm_count": s.vm_count,
            "started_at": s.started_at.isoformat() if s.started_at else None,
        }
        for s in ws.store.list()
    ]


def cmdb_drift(ws: Workspace) -> dict[str, Any] | None:
    """`migrator drift` for the page, each VM with its wave in the latest plan; None: no CMDB yet."""
    try:
        report = drift(ws).as_dict()
    except NotFound:
        return None
    try:
        placed = views.plan(ws)["vms"]
    except NotFound:
        placed = {}
    for item in report["items"]:
        item["wave"] = (
            (placed.get(item["name"]) or {}).get("wave") if item["kind"] != "ci-without-vm" else None
        )
    return report


def routes(app: FastAPI, page: Any, acting: Callable[[Request], Actor]) -> None:
    @app.get("/api/whatif", tags=["what-if"])
    def api_whatif(
        ws: TenantWs, vm: str = Query(max_length=2000), wave: int | None = Query(None, ge=0, le=MAX_ID)
    ) -> dict[str, Any]:
        """The re-planned result of pinning `vm` to `wave` (no wave: of unpinning it); nothing is stored."""
        result = preview_pin(ws, vm, wave) if wave is not None else preview_unpin(ws, vm)
        return result.as_dict()

    @app.post("/api/pins", tags=["what-if"])
    def api_pin(ws: TenantWs, request: Request, body: Pin) -> dict[str, Any]:
        """Save: pin (or unpin) and re-plan, like `waves pin` + `waves plan` (team mode: reviewers and up)."""
        actor = acting(request)
        if body.wave is not None:
            result = apply_pin(ws, body.vm, body.wave, actor)
        else:
            result = apply_unpin(ws, body.vm, actor)
        return {"plan_id": result.plan_id, "notes": result.notes}

    @app.get("/api/snapshots", tags=["drift"])
    def api_snapshots(ws: TenantWs) -> list[dict[str, Any]]:
        return snapshot_rows(ws)

    @app.get("/api/snapshots/diff", tags=["drift"])
    def api_snapshot_diff(
        ws: TenantWs, a: int = Query(ge=1, le=MAX_ID), b: int = Query(ge=1, le=MAX_ID)
    ) -> dict[str, Any]:
        return diff_snapshots(ws, a, b).as_dict()

    @app.get("/api/drift", tags=["drift"])
    def api_drift(ws: TenantWs) -> dict[str, Any]:
        """CMDB says X, vCenter says Y (needs `migrator import cmdb`)."""
        return drift(ws).as_dict()

    @app.get("/whatif", response_class=HTMLResponse, include_in_schema=False)
    def whatif_page(ws: TenantWs, request: Request) -> Response:
        doc = ws.plans.get(None)
        return page(request, "whatif.html", plan=doc, vms=sorted(doc["vms"]))

    @app.get("/cmdb", response_class=HTMLResponse, include_in_schema=False)
    def cmdb_page(ws: TenantWs, request: Request) -> Response:
        return page(request, "cmdb.html", report=cmdb_drift(ws))

    @app.get("/drift", response_class=HTMLResponse, include_in_schema=False)
    def drift_page(
        ws: TenantWs,
        request: Request,
        a: int | None = Query(None, ge=1, le=MAX_ID),
        b: int | None = Query(None, ge=1, le=MAX_ID),
    ) -> Response:
        snaps = snapshot_rows(ws)
        result = diff_snapshots(ws, a, b).as_dict() if a is not None and b is not None else None
        return page(request, "drift.html", snapshots=snaps, diff=result, a=a, b=b)
