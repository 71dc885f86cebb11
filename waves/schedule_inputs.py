"""What a wave schedule is computed from (docs/schedule.md): the start, the change windows, the
blackouts, the replication link and the pacing, each parsed from the text a user types.

Windows and blackouts are wall-clock times in the schedule's time zone (a change board says
"Saturday 22:00", not an instant); the schedule converts each occurrence to an instant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from migrator.errors import UsageError
from waves.parameters import LINK_EFFICIENCY

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_WINDOW = re.compile(r"^\s*([A-Za-z]{3,9})\s+(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_BANDWIDTH = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(bps|bit/s|b/s)\s*$", re.IGNORECASE)
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([mhdw])\s*$", re.IGNORECASE)
# bits per second of each prefix, in Mbps; a capital B (bytes) is refused below: links are sold in bits
_PREFIX_MBPS = {"": 1e-6, "k": 1e-3, "m": 1.0, "g": 1e3, "t": 1e6}
_DURATION_HOURS = {"m": 1 / 60, "h": 1.0, "d": 24.0, "w": 168.0}
MAX_BANDWIDTH_MBPS = 10_000_000.0  # 10 Tbps: anything above is a typing error
MAX_SETTLE = timedelta(days=90)
MAX_PARALLEL = 100
MAX_WINDOWS = 50
MAX_BLACKOUTS = 500


@dataclass(frozen=True)
class Window:
    """A weekly change window: a weekday and wall-clock start and end; an end at or before the
    start means the window runs past midnight into the next day ("Sat 22:00-06:00")."""

    weekday: int  # 0 = Monday
    start: time
    end: time

    @property
    def text(self) -> str:
        return f"{DAY_NAMES[self.weekday]} {self.start:%H:%M}-{self.end:%H:%M}"

    @property
    def crosses_midnight(self) -> bool:
        return self.end <= self.start

    def opening(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """The window's occurrence that starts on `day` (which must be its weekday), in `zone`."""
        end_day = day + timedelta(days=1) if self.crosses_midnight else day
        return datetime.combine(day, self.start, zone), datetime.combine(end_day, self.end, zone)


@dataclass(frozen=True)
class Blackout:
    """Whole days (first and last included) on which no cutover may run, e.g. a change freeze."""

    first: date
    last: date

    @property
    def text(self) -> str:
        return self.first.isoformat() if self.first == self.last else f"{self.first}..{self.last}"

    def span(self, zone: ZoneInfo) -> tuple[datetime, datetime]:
        return datetime.combine(self.first, time(0), zone), datetime.combine(
            self.last + timedelta(days=1), time(0), zone
        )


@dataclass(frozen=True)
class ScheduleInputs:
    start: datetime  # aware, in `timezone`: no replication starts before it
    windows: tuple[Window, ...]
    bandwidth_mbps: float  # the replication link shared by every wave replicating at once
    blackouts: tuple[Blackout, ...] = ()
    parallel_waves: int = 1  # waves replicating at the same time (they share the link)
    per_window: int = 1  # cutovers in one occurrence of a window
    settle: timedelta = timedelta(hours=24)  # after a cutover: rollback still possible, dependents wait
    timezone: str = "UTC"
    basis: str = "used"  # used | provisioned: which disk size is replicated
    efficiency: float = field(default=LINK_EFFICIENCY)  # usable share of the link

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def as_dict(self) -> dict[str, Any]:
        """The inputs as the text a user types (what is stored and shown; `from_dict` reads it back)."""
        return {
            "start": self.start.isoformat(),
            "windows": [w.text for w in self.windows],
            "blackouts": [b.text for b in self.blackouts],
            "bandwidth_mbps": self.bandwidth_mbps,
            "parallel_waves": self.parallel_waves,
            "per_window": self.per_window,
            "settle_hours": self.settle.total_seconds() / 3600,
            "timezone": self.timezone,
            "basis": self.basis,
            "link_efficiency": self.efficiency,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ScheduleInputs:
        return cls(
            start=datetime.fromisoformat(data["start"]),
            windows=tuple(parse_window(w) for w in data["windows"]),
            bandwidth_mbps=float(data["bandwidth_mbps"]),
            blackouts=tuple(parse_blackout(b) for b in data["blackouts"]),
            parallel_waves=int(data["parallel_waves"]),
            per_window=int(data["per_window"]),
            settle=timedelta(hours=float(data["settle_hours"])),
            timezone=str(data["timezone"]),
            basis=str(data["basis"]),
            efficiency=float(data.get("link_efficiency", LINK_EFFICIENCY)),
        )


def parse_window(text: str) -> Window:
    """ "Sat 22:00-06:00" (a weekday's first three letters or its full English name)."""
    m = _WINDOW.match(text)
    day = m.group(1).lower() if m else ""
    day = day[:3] if day in FULL_DAYS else day
    if m is None or day not in DAYS:
        raise UsageError(
            f"{{window}} {text!r}: expected a weekday and hours, e.g. 'Sat 22:00-06:00'", field="window"
        )
    try:
        start, end = time(int(m.group(2)), int(m.group(3))), time(int(m.group(4)), int(m.group(5)))
    except ValueError:
        raise UsageError(f"{{window}} {text!r}: hours are 00:00 to 23:59", field="window") from None
    if start == end:
        raise UsageError(
            f"{{window}} {text!r}: a window needs a length (start and end are equal)", field="window"
        )
    return Window(DAYS.index(day), start, end)


def parse_blackout(text: str) -> Blackout:
    """ "2027-02-01..2027-02-07" (both days included) or one day "2027-02-01"."""
    first_text, _, last_text = text.strip().partition("..")
    try:
        first = date.fromisoformat(first_text.strip())
        last = date.fromisoformat(last_text.strip()) if last_text else first
    except ValueError:
        raise UsageError(
            f"{{blackout}} {text!r}: expected FIRST..LAST days, e.g. '2027-02-01..2027-02-07'",
            field="blackout",
        ) from None
    if last < first:
        raise UsageError(f"{{blackout}} {text!r}: its last day is before its first", field="blackout")
    return Blackout(first, last)


def parse_bandwidth(text: str) -> float:
    """ "2Gbps", "500 Mbps", "1.5Gbit/s" -> Mbps."""
    m = _BANDWIDTH.match(text)
    if m is None or "B" in m.group(3):  # bytes (MB/s, GBps): links are sold in bits
        raise UsageError(
            f"{{bandwidth}} {text!r}: expected a link speed in bits, e.g. '2Gbps' or '500Mbps'",
            field="bandwidth",
        )
    mbps = float(m.group(1)) * _PREFIX_MBPS[m.group(2).lower()]
    if not 0 < mbps <= MAX_BANDWIDTH_MBPS:
        raise UsageError(f"{{bandwidth}} {text!r}: must be above 0 and at most 10Tbps", field="bandwidth")
    return mbps


def parse_duration(text: str, name: str = "settle") -> timedelta:
    """ "24h", "2d", "90m", "1w"; 0 is allowed (no settle period)."""
    m = _DURATION.match(text)
    if m is None:
        raise UsageError(f"{{{name}}} {text!r}: expected a duration such as '24h', '2d' or '90m'", field=name)
    value = timedelta(hours=float(m.group(1)) * _DURATION_HOURS[m.group(2).lower()])
    if value > MAX_SETTLE:
        raise UsageError(f"{{{name}}} {text!r}: at most 90 days", field=name)
    return value


def parse_start(text: str, timezone: str) -> datetime:
    """A day ("2027-01-11": its midnight) or a local time ("2027-01-11T08:00") in `timezone`."""
    zone = parse_timezone(timezone)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"{{start}} {text!r}: expected a day such as 2027-01-11", field="start") from None
    if not 2000 <= moment.year <= 2200:
        raise UsageError(f"{{start}} {text!r}: a year between 2000 and 2200", field="start")
    return moment.replace(tzinfo=zone) if moment.tzinfo is None else moment.astimezone(zone)


def parse_timezone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise UsageError(
            f"{{timezone}} {name!r}: not an IANA time zone such as Europe/Berlin", field="timezone"
        ) from None


def check_pacing(parallel_waves: int, per_window: int, windows: int, blackouts: int) -> None:
    if not 1 <= parallel_waves <= MAX_PARALLEL:
        raise UsageError(f"{{parallel_waves}} must be 1 to {MAX_PARALLEL}", field="parallel_waves")
    if not 1 <= per_window <= MAX_PARALLEL:
        raise UsageError(f"{{per_window}} must be 1 to {MAX_PARALLEL}", field="per_window")
    if not 1 <= windows <= MAX_WINDOWS:
        raise UsageError(f"give 1 to {MAX_WINDOWS} change windows ({{window}})", field="window")
    if blackouts > MAX_BLACKOUTS:
        raise UsageError(f"at most {MAX_BLACKOUTS} blackouts ({{blackout}})", field="blackout")
