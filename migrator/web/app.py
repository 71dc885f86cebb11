"""The FastAPI application: JSON under /api (with its OpenAPI description) and server-rendered pages."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path as FilePath
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markdown_it import MarkdownIt
from pydantic import BaseModel, Field

from migrator.app.identities import Actor, authenticate, team_mode
from migrator.app.prs import GuardFailed, Reviews
from migrator.app.workspace import Workspace
from migrator.errors import (
    ChecksFailed,
    Conflict,
    Forbidden,
    ForgeError,
    MigratorError,
    NotFound,
    UsageError,
)
from migrator.review.repo import Author
from migrator.web import jobs_pages, schedule_pages, views, whatif_drift
from migrator.web.security import TOKEN_COOKIE, Guard, TenantWs, actor_of, middleware

HERE = FilePath(__file__).resolve().parent
AUTHOR_NAME_ENV, AUTHOR_EMAIL_ENV = "MIGRATOR_GIT_AUTHOR_NAME", "MIGRATOR_GIT_AUTHOR_EMAIL"


class Approval(BaseModel):
    # Who approves: taken as given only in single-token mode; in team mode the token's person
    # approves and this is ignored (migrator.app.prs.Reviews.approve).
    by: str = Field("dashboard", max_length=200)


class MergeRequest(BaseModel):
    use_tools: bool = True


def markdown(text: str) -> str:
    """PLAN.md to HTML: raw HTML off, unsafe link schemes refused by markdown-it's validateLink."""
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table").render(text)


def create_app(ws: Workspace, guard: Guard | None = None, forge_token: str | None = None) -> FastAPI:
    """`forge_token`: what approve and merge use on a forge or an https plans remote (the operator's
    `serve --token-env NAME`; a value, never stored or shown)."""
    guard = team_guard(ws, guard or Guard())
    app = FastAPI(title="migrator dashboard", version="1", docs_url=None, redoc_url=None)
    app.state.ws = ws
    app.state.guard = guard
    app.middleware("http")(middleware(guard))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.add_exception_handler(MigratorError, _error)  # type: ignore[arg-type]
    _api(app, forge_token)
    templates = Jinja2Templates(directory=HERE / "templates")
    # A name as one URL path segment: "/", "?", "#", "%" and ":" quoted (urlencode keeps "/").
    templates.env.filters["segment"] = lambda text: quote(str(text), safe="")
    _pages(app, guard, templates)
    return app


def team_guard(ws: Workspace, guard: Guard) -> Guard:
    """The guard with team mode read from the workspace: on once any identity was ever added (no
    flag to forget: adding the first person locks the dashboard to people's tokens at once)."""
    seen = [False]

    def team() -> bool:
        seen[0] = seen[0] or team_mode(ws)  # identities are never deleted: once on, on for good
        return seen[0]

    return dataclasses.replace(guard, team=team, people=lambda token: authenticate(ws, token))


def acting(request: Request) -> Actor:
    """Who acts on this request: the token's person in team mode, else the dashboard's one user."""
    return actor_of(request) or Actor("dashboard", "web")


def _error(request: Request, exc: MigratorError) -> JSONResponse:
    status = 400
    if isinstance(exc, Forbidden):
        status = 403
    elif isinstance(exc, NotFound):
        status = 404
    elif isinstance(exc, Conflict | ChecksFailed):
        status = 409
    elif isinstance(exc, UsageError):
        status = 422
    elif isinstance(exc, ForgeError):
        status = 502  # the forge (or the plans remote) failed or refused: its reason is the detail
    body: dict[str, Any] = {"detail": exc.message}
    if isinstance(exc, GuardFailed):
        body["report"] = [d.__dict__ for d in getattr(exc.report, "diagnostics", [])][:200]
    return JSONResponse(body, status)


def _pr_row(pr: Any) -> dict[str, Any]:
    return {
        "number": pr.id,
        "plan_id": pr.plan_id,
        "target": pr.target,
        "wave": pr.wave,
        "status": pr.status,
        "title": pr.title,
        "branch": pr.branch,
        "forge": pr.forge,
        "approvals": pr.approvals,
        "summary": pr.summary,
        "merge_commit": pr.merge_commit,
        "updated_at": pr.updated_at.isoformat() if pr.updated_at else None,
    }


def pr_detail(ws: Workspace, number: int) -> dict[str, Any]:
    reviews = Reviews(ws)
    pr = reviews.prs.get(number)
    plan_md = reviews.plan_md(pr)
    return {**_pr_row(pr), "plan_md": plan_md, "diff": reviews.diff(number)}


def _author() -> Author:
    return Author(
        os.environ.get(AUTHOR_NAME_ENV) or "migrator",
        os.environ.get(AUTHOR_EMAIL_ENV) or "migrator@localhost",
    )


def _api(app: FastAPI, forge_token: str | None) -> None:
    @app.get("/api/overview", tags=["estate"])
    def api_overview(ws: TenantWs) -> dict[str, Any]:
        return views.overview(ws)

    @app.get("/api/waves", tags=["waves"])
    def api_waves(ws: TenantWs) -> list[dict[str, Any]]:
        return views.wave_rows(views.plan(ws))

    @app.get("/api/waves/{number}", tags=["waves"])
    def api_wave(ws: TenantWs, number: int = Path(ge=0, le=2**31 - 1)) -> dict[str, Any]:
        return views.wave(ws, number)

    @app.get("/api/vms/{name:path}", tags=["estate"])
    def api_vm(ws: TenantWs, name: str = Path(max_length=2000)) -> dict[str, Any]:
        return views.vm(ws, name)

    @app.get("/api/endpoints/{address:path}", tags=["estate"])
    def api_endpoint(ws: TenantWs, address: str = Path(max_length=2000)) -> dict[str, Any]:
        """An external endpoint (a flow address that is no VM): its VMs, ports, bytes, waves."""
        return views.endpoint(ws, address)

    @app.get("/api/graph", tags=["graph"])
    def api_graph(
        ws: TenantWs,
        wave: int | None = Query(None, ge=0, le=100_000),
        application: str | None = Query(None, max_length=500),
        environment: str | None = Query(None, max_length=500),
        aggregate: str = Query("auto", pattern="^(auto|app|none)$"),
    ) -> dict[str, Any]:
        body = views.graph_json(ws, wave=wave, app=application, env=environment, aggregate=aggregate)
        return Response(body, media_type="application/json")  # type: ignore[return-value]

    @app.get("/api/prs", tags=["pull requests"])
    def api_prs(ws: TenantWs) -> list[dict[str, Any]]:
        return [_pr_row(pr) for pr in Reviews(ws).prs.all()]

    @app.get("/api/prs/{number}", tags=["pull requests"])
    def api_pr(ws: TenantWs, number: int = Path(ge=0, le=2**31 - 1)) -> dict[str, Any]:
        return pr_detail(ws, number)

    @app.post("/api/prs/{number}/approve", tags=["pull requests"])
    def api_approve(
        ws: TenantWs, request: Request, body: Approval, number: int = Path(ge=0, le=2**31 - 1)
    ) -> dict[str, Any]:
        """Approve as the token's person (team mode: `by` is ignored), else as `by`."""
        return _pr_row(Reviews(ws, forge_token, actor=acting(request)).approve(number, body.by))

    @app.post("/api/prs/{number}/merge", tags=["pull requests"])
    def api_merge(
        ws: TenantWs, request: Request, body: MergeRequest, number: int = Path(ge=0, le=2**31 - 1)
    ) -> dict[str, Any]:
        result = Reviews(ws, forge_token, actor=acting(request)).merge(number, _author(), body.use_tools)
        return {
            "number": number,
            "merge_commit": result.merge_commit,
            "changed_by_review": result.changed_files,
        }


def _pages(app: FastAPI, guard: Guard, templates: Jinja2Templates) -> None:
    def page(request: Request, name: str, **context: Any) -> Response:
        extra = {"csrf": guard.csrf, "actor": actor_of(request)}
        return templates.TemplateResponse(request, name, {**extra, **context})

    whatif_drift.routes(app, page, acting)
    schedule_pages.routes(app, page)
    jobs_pages.routes(app, page)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def overview_page(ws: TenantWs, request: Request) -> Response:
        return page(request, "overview.html", o=views.overview(ws))

    @app.get("/graph", response_class=HTMLResponse, include_in_schema=False)
    def graph_page(ws: TenantWs, request: Request) -> Response:
        return page(request, "graph.html", plan=views.plan(ws))

    @app.get("/waves/{number}", response_class=HTMLResponse, include_in_schema=False)
    def wave_page(ws: TenantWs, request: Request, number: int = Path(ge=0, le=2**31 - 1)) -> Response:
        w = views.wave(ws, number)
        prs = []
        for pr in w["prs"]:
            prs.append({**pr, "plan_md": markdown(Reviews(ws).plan_md(Reviews(ws).prs.get(pr["number"])))})
        return page(request, "wave.html", w=w, prs=prs)

    @app.get("/vms/{name:path}", response_class=HTMLResponse, include_in_schema=False)
    def vm_page(ws: TenantWs, request: Request, name: str = Path(max_length=2000)) -> Response:
        waves = [{"number": w["number"], "name": w["name"]} for w in views.plan(ws)["waves"]]
        return page(request, "vm.html", v=views.vm(ws, name), waves=waves)

    @app.get("/endpoints/{address:path}", response_class=HTMLResponse, include_in_schema=False)
    def endpoint_page(ws: TenantWs, request: Request, address: str = Path(max_length=2000)) -> Response:
        return page(request, "endpoint.html", e=views.endpoint(ws, address))

    @app.get("/prs", response_class=HTMLResponse, include_in_schema=False)
    def prs_page(ws: TenantWs, request: Request) -> Response:
        return page(request, "prs.html", prs=[_pr_row(pr) for pr in Reviews(ws).prs.all()])

    @app.get("/prs/{number}", response_class=HTMLResponse, include_in_schema=False)
    def pr_page(ws: TenantWs, request: Request, number: int = Path(ge=0, le=2**31 - 1)) -> Response:
        pr = pr_detail(ws, number)
        return page(request, "pr.html", pr=pr, plan_html=markdown(pr["plan_md"]))

    @app.get("/login", response_class=HTMLResponse, include_in_schema=False)
    def login_page(request: Request) -> Response:
        return page(request, "login.html")

    @app.post("/login", include_in_schema=False)
    def login(token: str = Form(..., max_length=1000)) -> Response:
        """Single-token mode: the shared token; team mode: an active person's own token."""
        known = guard.people(token) is not None if guard.team() else guard.token_ok(token)
        if not known:
            return JSONResponse({"detail": "wrong token"}, 401)
        response = RedirectResponse("/", 303)
        response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict", secure=False)
        return response
