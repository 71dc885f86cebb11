"""The wave schedule (docs/schedule.md): when each wave of a plan replicates and cuts over.

Pure and deterministic: the same loads and inputs give the same schedule.

1. Replication: waves take replication slots in the plan's order, at most `parallel_waves` at
   once. The waves replicating at one moment share the link equally (each gets link/n), so the
   link is never oversubscribed; when one finishes, the others speed up and the next one starts.
2. Cutover: in the same order, each wave takes the first whole occurrence of a change window
   that starts after its initial sync ended and after every wave it depends on is past its
   rollback deadline, that touches no blackout day and that has room (`per_window` cutovers).
3. Rollback deadline: the cutover window's end plus the settle period; until then the wave can
   still go back to the source, so its dependents wait for it.

Every wave keeps the reasons its dates are what they are.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from migrator.errors import UsageError
from waves.schedule_inputs import ScheduleInputs, Window

HORIZON = timedelta(days=3 * 366)  # no window in three years: the inputs cannot be met
MAX_REPLICATION = timedelta(days=10 * 366)  # beyond this a bandwidth is a typing error (and dates overflow)
_EPSILON_MBIT = 1e-6


@dataclass(frozen=True)
class WaveLoad:
    """What the schedule needs to know of a wave."""

    number: int
    name: str
    gigabytes: float  # what its initial sync moves
    depends_on: tuple[int, ...] = ()  # waves whose VMs this wave's VMs depend on


@dataclass(frozen=True)
class Share:
    """A stretch of time over which a wave replicates at a constant rate."""

    start: datetime
    end: datetime
    mbps: float


@dataclass(frozen=True)
class Reason:
    kind: str  # start | slot | bandwidth | dependency | order | window | blackout | full
    text: str


@dataclass(frozen=True)
class WaveSlot:
    number: int
    name: str
    gigabytes: float
    depends_on: tuple[int, ...]
    replication_start: datetime
    replication_end: datetime
    shares: tuple[Share, ...]
    cutover_start: datetime
    cutover_end: datetime
    rollback_deadline: datetime
    window: str
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class Schedule:
    inputs: ScheduleInputs
    waves: tuple[WaveSlot, ...]

    @property
    def end(self) -> datetime | None:
        """When the last cutover window closes (None: no waves)."""
        return max((w.cutover_end for w in self.waves), default=None)


@dataclass
class _Replication:
    start: float  # seconds after the schedule's start
    end: float
    shares: list[tuple[float, float, float]]  # (from, to, Mbps)
    waited_for: list[int]  # the waves whose end freed the slot it took (none: it started at once)
    shared_with: set[int]


def schedule(loads: list[WaveLoad], inputs: ScheduleInputs) -> Schedule:
    """The schedule of `loads`, taken in wave-number order (the plan's dependency order)."""
    ordered = sorted(loads, key=lambda w: w.number)
    replication = _replicate(ordered, inputs)
    booked: Counter[datetime] = Counter()
    rollback: dict[int, datetime] = {}
    slots = []
    for load in ordered:
        rep = replication[load.number]
        slot = _cutover(load, rep, inputs, booked, rollback)
        rollback[load.number] = slot.rollback_deadline
        slots.append(slot)
    return Schedule(inputs, tuple(slots))


def _at(inputs: ScheduleInputs, seconds: float) -> datetime:
    # whole seconds; the same float always gives the same instant, so shares stay aligned
    return (inputs.start + timedelta(seconds=round(seconds))).astimezone(inputs.zone)


def _replicate(ordered: list[WaveLoad], inputs: ScheduleInputs) -> dict[int, _Replication]:
    """Processor sharing of the link: the active waves split it equally until one finishes."""
    link = inputs.bandwidth_mbps * inputs.efficiency
    queue = list(ordered)
    left: dict[int, float] = {}  # megabits still to move, per active wave
    out: dict[int, _Replication] = {}
    now = 0.0
    while queue or left:
        done = [n for n, mbit in left.items() if mbit <= _EPSILON_MBIT]
        for number in done:
            out[number].end = now
            del left[number]
        if done:
            continue  # a slot is free: fill it first
        if queue and len(left) < inputs.parallel_waves:
            load = queue.pop(0)
            freed = sorted(n for n, r in out.items() if n not in left and r.shares and r.end == now)
            out[load.number] = _Replication(now, now, [], freed, set())
            left[load.number] = max(load.gigabytes, 0.0) * 8000
            continue
        rate = link / len(left)
        step = min(left.values()) / rate
        for number in left:
            out[number].shares.append((now, now + step, rate))
            out[number].shared_with.update(n for n in left if n != number)
            left[number] = max(left[number] - rate * step, 0.0)
            if left[number] <= _EPSILON_MBIT * max(1.0, rate * step):
                left[number] = 0.0  # the float remainder of the wave that finishes now
        now += step
        if now > MAX_REPLICATION.total_seconds():
            raise UsageError(
                f"replication would take over ten years at {inputs.bandwidth_mbps:g} Mbps: "
                "check {bandwidth}",
                field="bandwidth",
            )
    return out


def _replication_reasons(load: WaveLoad, rep: _Replication, inputs: ScheduleInputs) -> list[Reason]:
    start = _at(inputs, rep.start)
    reasons = []
    if rep.start > 0:
        freed = (
            f"; wave(s) {', '.join(str(n) for n in rep.waited_for)} finished then" if rep.waited_for else ""
        )
        reasons.append(
            Reason(
                "slot",
                f"replication starts {start:%Y-%m-%d %H:%M}: waits for a slot (at most "
                f"{inputs.parallel_waves} wave(s) replicate at once{freed})",
            )
        )
    else:
        reasons.append(Reason("start", f"replication starts {start:%Y-%m-%d %H:%M}: the schedule's start"))
    if load.gigabytes <= 0:
        return [*reasons, Reason("bandwidth", "nothing to replicate")]
    hours = (rep.end - rep.start) / 3600
    usable = inputs.bandwidth_mbps * inputs.efficiency
    shared = (
        f", sharing the link with wave(s) {', '.join(str(n) for n in sorted(rep.shared_with))}"
        if rep.shared_with
        else ""
    )
    reasons.append(
        Reason(
            "bandwidth",
            f"initial sync of {load.gigabytes:g} GB ({inputs.basis} disk) takes {hours:.1f} h on "
            f"{usable:g} Mbps usable of {inputs.bandwidth_mbps:g} Mbps{shared}",
        )
    )
    return reasons


def _cutover(
    load: WaveLoad,
    rep: _Replication,
    inputs: ScheduleInputs,
    booked: Counter[datetime],
    rollback: dict[int, datetime],
) -> WaveSlot:
    reasons = _replication_reasons(load, rep, inputs)
    earliest = _at(inputs, rep.end)
    for dep in sorted(set(load.depends_on)):
        if dep not in rollback:
            reasons.append(
                Reason("order", f"depends on wave {dep}, which the plan puts later: not waited for")
            )
        elif rollback[dep] > earliest:
            earliest = rollback[dep]
            reasons.append(
                Reason(
                    "dependency",
                    f"waits for wave {dep} to settle: its rollback deadline is {earliest:%Y-%m-%d %H:%M}",
                )
            )
    start, end, window, skipped = _first_opening(earliest, inputs, booked)
    booked[start] += 1
    reasons.extend(skipped)
    reasons.append(Reason("window", f"cuts over in the window {window} of {start:%Y-%m-%d}"))
    return WaveSlot(
        number=load.number,
        name=load.name,
        gigabytes=load.gigabytes,
        depends_on=tuple(sorted(set(load.depends_on))),
        replication_start=_at(inputs, rep.start),
        replication_end=_at(inputs, rep.end),
        shares=_merged(rep.shares, inputs),
        cutover_start=start,
        cutover_end=end,
        rollback_deadline=(end + inputs.settle).astimezone(inputs.zone),
        window=window,
        reasons=tuple(reasons),
    )


def _merged(shares: list[tuple[float, float, float]], inputs: ScheduleInputs) -> tuple[Share, ...]:
    """Consecutive stretches at the same rate as one (rates only change when a wave starts or ends)."""
    out: list[tuple[float, float, float]] = []
    for start, end, rate in shares:
        if out and out[-1][2] == rate and out[-1][1] == start:
            out[-1] = (out[-1][0], end, rate)
        else:
            out.append((start, end, rate))
    return tuple(Share(_at(inputs, a), _at(inputs, b), rate) for a, b, rate in out)


def openings(since: datetime, inputs: ScheduleInputs) -> Iterator[tuple[datetime, datetime, Window]]:
    """Every occurrence of the windows starting at or after `since`, in order of start."""
    zone = inputs.zone
    day = since.astimezone(zone).date()
    last = (since + HORIZON).astimezone(zone).date()
    windows = sorted(inputs.windows, key=lambda w: (w.start, w.end, w.weekday))
    while day <= last:
        for window in windows:
            if window.weekday == day.weekday():
                start, end = window.opening(day, zone)
                if start >= since:
                    yield start, end, window
        day += timedelta(days=1)


def _first_opening(
    earliest: datetime, inputs: ScheduleInputs, booked: Counter[datetime]
) -> tuple[datetime, datetime, str, list[Reason]]:
    blackouts = [(b, *b.span(inputs.zone)) for b in inputs.blackouts]
    skipped: dict[tuple[str, str], list[str]] = {}
    for start, end, window in openings(earliest, inputs):
        hit = next((b for b, first, last in blackouts if start < last and end > first), None)
        if hit is not None:
            skipped.setdefault(("blackout", hit.text), []).append(f"{start:%Y-%m-%d}")
        elif booked[start] >= inputs.per_window:
            skipped.setdefault(("full", ""), []).append(f"{start:%Y-%m-%d}")
        else:
            return start, end, window.text, _skipped_reasons(skipped, inputs)
    raise UsageError(
        f"no change window after {earliest:%Y-%m-%d %H:%M} within three years is free of blackouts "
        "({window}, {blackout})",
        field=("window", "blackout"),
    )


def _skipped_reasons(skipped: dict[tuple[str, str], list[str]], inputs: ScheduleInputs) -> list[Reason]:
    reasons = []
    for (kind, what), days in skipped.items():
        listed = ", ".join(days[:5]) + (f" and {len(days) - 5} more" if len(days) > 5 else "")
        if kind == "blackout":
            reasons.append(Reason("blackout", f"skips the window(s) of {listed}: blackout {what}"))
        else:
            reasons.append(
                Reason(
                    "full",
                    f"skips the window(s) of {listed}: already holding {inputs.per_window} cutover(s)",
                )
            )
    return reasons
