"""PLAN.md's "Schedule" section: the wave's dates from the stored schedule, why, and what the
schedule cannot know (docs/schedule.md). The text is migrator's own; it still goes through
`prose` because a wave's reasons quote typed inputs."""

from __future__ import annotations

from datetime import datetime
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


def _hours(start: str, end: str) -> float:
    return (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds() / 3600


def forklift_schedule_note(schedule: dict[str, Any] | None, wave: int, warm: bool, vddk: bool) -> str:
    """What the Forklift transfer path means for the wave's dates (docs/handoff.md, "Transfer
    path"): a warm copy runs ahead of the window, as the schedule assumes; a cold one (no CBT, or
    no VDDK image) copies everything inside the cutover window."""
    if warm:
        return (
            "warm: the copy runs ahead of the window over VDDK, as the schedule's initial replication "
            "assumes; the Migration's cutover is the window's start"
        )
    slower = (
        ""
        if vddk
        else " Without a VDDK image the disks are read over vCenter's HTTPS file access, slower than VDDK: "
        "time one VM's copy before trusting the window."
    )
    entry = next((w for w in (schedule or {}).get("waves", []) if w["number"] == wave), None)
    if schedule is None or entry is None:
        return (
            "cold: nothing is copied before the Migration is applied, so the whole copy runs inside the "
            f"cutover window; `migrator schedule` says how long it takes on your link.{slower}"
        )
    inputs = schedule["inputs"]
    usable = inputs["bandwidth_mbps"] * inputs.get("link_efficiency", 0.8)
    needed = entry["gigabytes"] * 8000 / usable / 3600 if usable > 0 else 0.0
    window = _hours(entry["cutover_start"], entry["cutover_end"])
    verdict = (
        "it fits"
        if needed <= window
        else "it does not fit: split the wave, give it a longer window, or enable CBT and a VDDK image "
        "for a warm copy"
    )
    return (
        f"cold: nothing is copied before the Migration is applied, so the schedule's initial replication "
        f"({entry['gigabytes']:g} GB) happens inside the cutover window: at least {needed:.1f} h at "
        f"{usable:g} Mbps of the window's {window:g} h; {verdict}.{slower}"
    )
