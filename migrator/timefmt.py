"""Timestamps as every contract shows them (ISO 8601 UTC with a Z); used by the store and the export."""

from __future__ import annotations

from datetime import UTC, datetime


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z; SQLite hands datetimes back without their zone."""
    if moment is None:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
