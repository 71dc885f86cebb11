"""The schedule on the dashboard: a timeline of waves (replication bars, cutover windows, settle
periods and dependencies) drawn as server-side SVG, its JSON, and a what-if over
migrator.app.schedule (change the bandwidth or the windows, see the new end date; nothing stored).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from fastapi import FastAPI, Query, Request
from fastapi.responses import HTMLResponse, Response

from migrator.app.schedule import WhatIf, stored_schedule, what_if
from migrator.errors import NotFound, UsageError
from migrator.web.security import TenantWs
from waves.schedule_inputs import ScheduleInputs

WIDTH, LABEL, TOP, ROW, BAR = 1100, 260, 34, 34, 12  # SVG geometry, in user units
MAX_TICKS = 40


def _t(iso: str) -> datetime:
    return datetime.fromisoformat(iso)


def timeline(document: dict[str, Any]) -> dict[str, Any]:
    """The geometry of the timeline: one row per wave, x proportional to time."""
    waves = document["waves"]
    if not waves:
        return {"rows": [], "deps": [], "ticks": [], "width": WIDTH, "height": TOP + ROW}
    first = min(_t(w["replication_start"]) for w in waves)
    last = max(_t(w["rollback_deadline"]) for w in waves)
    span = max((last - first).total_seconds(), 3600.0)

    def x(iso: str | datetime) -> float:
        moment = _t(iso) if isinstance(iso, str) else iso
        return round(LABEL + (WIDTH - LABEL - 10) * (moment - first).total_seconds() / span, 1)

    rows, where = [], {}
    for i, w in enumerate(waves):
        y = TOP + i * ROW
        where[w["number"]] = y
        rows.append(
            {
                "number": w["number"],
                "name": w["name"],
                "y": y,
                "repl": _bar(x(w["replication_start"]), x(w["replication_end"])),
                "cut": _bar(x(w["cutover_start"]), x(w["cutover_end"])),
                "settle": _bar(x(w["cutover_end"]), x(w["rollback_deadline"])),
                "title": f"wave {w['number']}: cutover {w['cutover_start']}, "
                + "; ".join(r["text"] for r in w["why"]),
            }
        )
    deps = [
        {
            "x1": x(d["rollback_deadline"]),
            "y1": where[d["number"]] + BAR // 2,
            "x2": x(w["cutover_start"]),
            "y2": where[w["number"]] + BAR // 2,
        }
        for w in waves
        for d in waves
        if d["number"] in w["depends_on"]
    ]
    height = TOP + ROW * len(waves)
    return {
        "rows": rows,
        "deps": deps,
        "ticks": _ticks(first, last, x),
        "blackouts": _blackouts(document, first, last, x),
        "width": WIDTH,
        "height": height,
    }


def _blackouts(document: dict[str, Any], first: datetime, last: datetime, x: Any) -> list[dict[str, Any]]:
    """The blackouts within the chart, as shaded spans (days in the schedule's zone)."""
    inputs = ScheduleInputs.from_dict(document["inputs"])
    out = []
    for blackout in inputs.blackouts:
        a, b = blackout.span(inputs.zone)
        if a < last and b > first:
            left, right = x(max(a, first)), x(min(b, last))
            out.append({"x": left, "w": round(right - left, 1), "label": blackout.text})
    return out


def _bar(a: float, b: float) -> dict[str, float]:
    return {"x": a, "w": max(round(b - a, 1), 2.0)}  # a zero-length bar stays visible


def _ticks(first: datetime, last: datetime, x: Any) -> list[dict[str, Any]]:
    """Mondays (every n-th when the schedule is long) as the time axis."""
    day = (first - timedelta(days=first.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)
    weeks = max(1, ((last - day).days // 7 + 1 + MAX_TICKS - 1) // MAX_TICKS)
    ticks = []
    while day <= last:
        if day >= first:
            ticks.append({"x": x(day), "label": f"{day:%d %b}"})
        day += timedelta(weeks=weeks)
    return ticks


def _whatif(bandwidth: str | None, windows: str | None) -> WhatIf:
    listed = tuple(w.strip() for w in windows.split(",") if w.strip()) if windows else None
    return WhatIf(bandwidth=bandwidth.strip() if bandwidth and bandwidth.strip() else None, windows=listed)


def routes(app: FastAPI, page: Any) -> None:
    @app.get("/api/schedule", tags=["schedule"])
    def api_schedule(ws: TenantWs) -> dict[str, Any]:
        """The latest plan's stored schedule (`migrator schedule`, docs/schedule.md)."""
        return stored_schedule(ws)

    @app.get("/api/schedule/whatif", tags=["schedule"])
    def api_schedule_whatif(
        ws: TenantWs,
        bandwidth: str | None = Query(None, max_length=50),
        windows: str | None = Query(None, max_length=2000),
    ) -> dict[str, Any]:
        """The stored schedule recomputed with another bandwidth ("1Gbps") or windows
        ("Sat 22:00-06:00, Wed 20:00-23:00"); nothing is stored."""
        return what_if(ws, _whatif(bandwidth, windows))

    @app.get("/schedule", response_class=HTMLResponse, include_in_schema=False)
    def schedule_page(
        ws: TenantWs,
        request: Request,
        bandwidth: str | None = Query(None, max_length=50),
        windows: str | None = Query(None, max_length=2000),
    ) -> Response:
        try:
            doc = stored_schedule(ws)
        except NotFound as exc:
            return page(request, "schedule.html", doc=None, missing=exc.message)
        result, error = None, None
        if bandwidth or windows:
            try:
                result = what_if(ws, _whatif(bandwidth, windows))
            except UsageError as exc:
                error = exc.message
        shown = result["after"] if result else doc
        return page(
            request, "schedule.html", doc=doc, shown=shown, tl=timeline(shown), whatif=result, error=error,
            bandwidth=bandwidth or f"{doc['inputs']['bandwidth_mbps']:g}Mbps",
            windows=windows or ", ".join(doc["inputs"]["windows"]),
        )  # fmt: skip
