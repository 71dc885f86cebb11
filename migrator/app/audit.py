"""The audit log (docs/audit.md): every state change, appended by the use case that made it.

Front ends never write it: they pass the `Actor` (the token's person on the dashboard, the
machine's user or `--who`/`--by` on the CLI) to the use case, which records it after the change.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from migrator.app.identities import Actor, cli_actor
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from transpilers.escape import one_line

_AGO = re.compile(r"(\d{1,6})([mhd])")
_UNITS = {"m": "minutes", "h": "hours", "d": "days"}


def record(ws: Workspace, actor: Actor | None, action: str, target: str, detail: dict[str, Any]) -> None:
    who = actor or cli_actor()
    ws.audit.append(one_line(who.name, 200), who.via, action, target, detail)


def list_audit(ws: Workspace, since: str | None = None) -> list[dict[str, Any]]:
    return ws.audit.list(parse_since(since) if since else None)


def parse_since(text: str) -> datetime:
    """`30m`, `12h`, `7d` (ago) or an ISO 8601 date or time (UTC unless it says otherwise)."""
    value = text.strip()
    ago = _AGO.fullmatch(value)
    if ago:
        return datetime.now(UTC) - timedelta(**{_UNITS[ago[2]]: int(ago[1])})
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"{{since}} {value[:50]!r}: give 30m, 12h, 7d or an ISO 8601 time such as 2026-12-01T09:00Z",
            field="since",
        ) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
