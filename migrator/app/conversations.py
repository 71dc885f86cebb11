"""Refinement conversations: listing, showing, and the Markdown record committed with a
refinement ("conversations as code"). Request and model output are untrusted text: in the
Markdown they appear only inside code fences or as escaped one-line text."""

from __future__ import annotations

from typing import Any

from migrator.app.workspace import Workspace
from migrator.review.markdown import code, fence_for
from migrator.store.conversations import ConversationStore
from migrator.store.models import Conversation
from migrator.timefmt import iso_utc
from transpilers.escape import one_line

MAX_RAW_SHOWN = 4000


def conversation_dict(c: Conversation, full: bool = False) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id": c.id,
        "plan_id": c.plan_id,
        "target": c.target,
        "wave": c.wave,
        "pr": c.pr_number,
        "status": c.status,
        "attempts": len(c.attempts),
        "request": one_line(c.request, 80 if not full else 2000),
        "reason": c.reason,
        "commit": c.commit,
        "created_at": iso_utc(c.created_at),
    }
    if full:
        row |= {"attempt_log": c.attempts, "diff": c.diff, "thread_id": c.thread_id}
    return row


def list_conversations(ws: Workspace) -> list[Conversation]:
    return ConversationStore(ws.engine).all()


def get_conversation(ws: Workspace, number: int) -> Conversation:
    return ConversationStore(ws.engine).get(number)


def _block(text: str, lang: str = "") -> list[str]:
    body = "".join(ch for ch in text if ch in "\n\t" or ch.isprintable())
    fence = fence_for(body)
    return [f"{fence}{lang}", body, fence]


def conversation_markdown(c: Conversation) -> str:
    """The conversation as committed beside the wave: request, every attempt, its diagnostics."""
    lines = [
        f"# Refinement {c.id}: {c.target} wave {c.wave}",
        "",
        f"Status: {code(c.status)}. Plan {c.plan_id}, pull request #{c.pr_number}.",
        "",
        "## Request (untrusted text)",
        "",
        *_block(c.request),
    ]
    for attempt in c.attempts:
        lines += ["", f"## Attempt {attempt.get('number')}: {code(attempt.get('outcome', '?'))}", ""]
        if attempt.get("summary"):
            lines.append(f"Model's summary: {code(attempt['summary'], 300)}")
        if attempt.get("files"):
            lines.append("Files: " + ", ".join(code(n, 100) for n in attempt["files"]))
        for d in attempt.get("diagnostics", []):
            where = f"{d['file']}:{d['line']}" if d.get("line") else (d.get("file") or "-")
            lines.append(f"- {code(d['rule'], 60)} at {code(where, 120)}: {code(d['message'], 300)}")
        lines += [
            "",
            "Model's answer (untrusted, shown as data):",
            "",
            *_block(attempt.get("raw", "")[:MAX_RAW_SHOWN]),
        ]
    return "\n".join(lines) + "\n"
