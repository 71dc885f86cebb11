"""A stored schedule as iCalendar (RFC 5545): one VEVENT per cutover, with its runbook link.

Wave names are inventory text: made one line of visible characters, then escaped by the
icalendar package as TEXT values (commas, semicolons, backslashes), so a name cannot add
properties or events.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from migrator.app.schedule import runbook_link
from transpilers.escape import one_line

PRODID = "-//migrator//wave schedule//EN"


def to_ics(document: dict[str, Any], runbook_base: str = "") -> bytes:
    """The calendar of a schedule document; `runbook_base` (a web address of the plans repository)
    makes each runbook link absolute and adds it as the event's URL."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", f"migrator plan {document['plan_id']}: cutovers")
    stamp = _stamp(document)
    for wave in document["waves"]:
        cal.add_component(_event(document, wave, stamp, runbook_base))
    cal.add_missing_timezones()
    return bytes(cal.to_ical())


def _stamp(document: dict[str, Any]) -> datetime:
    """DTSTAMP: when the schedule was stored (the same every export, so the file is reproducible)."""
    created = (document.get("schedule") or {}).get("created_at") or document["inputs"]["start"]
    return datetime.fromisoformat(created.replace("Z", "+00:00"))


def _event(document: dict[str, Any], wave: dict[str, Any], stamp: datetime, base: str) -> Event:
    link = runbook_link(document["runbook_target"], wave["number"], base)
    event = Event()
    # stable per plan and wave: a re-imported calendar moves the event instead of adding one
    event.add("uid", f"plan-{document['plan_id']}-wave-{wave['number']}@migrator")
    event.add("dtstamp", stamp)
    # in the schedule's named zone (TZID and a VTIMEZONE), not the bare offset the JSON carries
    zone = ZoneInfo(document["inputs"].get("timezone") or "UTC")
    event.add("dtstart", datetime.fromisoformat(wave["cutover_start"]).astimezone(zone))
    event.add("dtend", datetime.fromisoformat(wave["cutover_end"]).astimezone(zone))
    # one line of visible text: a calendar shows the summary as a title
    event.add("summary", f"Cutover wave {wave['number']}: {one_line(wave['name'], 200)}")
    lines = [
        f"Runbook: {link}",
        f"Replication: {wave['replication_start']} to {wave['replication_end']}",
        f"Rollback deadline: {wave['rollback_deadline']}",
        *(f"- {why['text']}" for why in wave["why"]),
    ]
    event.add("description", "\n".join(lines))
    if base:
        event.add("url", link)
    return event
