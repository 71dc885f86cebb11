"""PLAN.md's "Schedule" section: the wave's dates from the stored schedule, why, and what the
schedule cannot know (docs/schedule.md). The text is migrator's own; it still goes through
`prose` because a wave's reasons quote typed inputs."""

from __future__ import annotations

from typing import Any

from migrator.review.markdown import prose


def _when(iso: str) -> str:
    return iso[:16].replace("T", " ")


def schedule_section(schedule: dict[str, Any] | None, wave: int) -> str | None:
    """The section for `wave` of a schedule document; None when the plan has no schedule."""
    if schedule is None:
        return None
    entry = next((w for w in schedule["waves"] if w["number"] == wave), None)
    if entry is None:
        return None
    inputs = schedule["inputs"]
    stored = schedule.get("schedule") or {}
    lines = [
        "## Schedule",
        "",
        f"From schedule {stored.get('id')} of plan {schedule['plan_id']} (`migrator schedule`); times in "
        f"{prose(inputs['timezone'])}, link {inputs['bandwidth_mbps']:g} Mbps, windows "
        f"{prose(', '.join(inputs['windows']))}.",
        "",
        "| step | from | to |",
        "|---|---|---|",
        f"| initial replication ({entry['gigabytes']:g} GB, {prose(inputs['basis'])} disk) "
        f"| {_when(entry['replication_start'])} | {_when(entry['replication_end'])} |",
        f"| cutover window ({prose(entry['window'])}) | {_when(entry['cutover_start'])} "
        f"| {_when(entry['cutover_end'])} |",
        f"| rollback possible until | | {_when(entry['rollback_deadline'])} |",
        "",
        "Why these dates:",
        "",
        *(f"- {prose(why['text'])}" for why in entry["why"]),
        "",
        "What the schedule cannot know:",
        "",
        *(f"- {prose(text)}" for text in schedule["cannot_know"]),
    ]
    return "\n".join(lines)
