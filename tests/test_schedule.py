"""The wave schedule's algorithm (waves/schedule.py): exact cases worked by hand, the parsers,
and properties on generated plans (hypothesis) and on the real synthetic-300 plan."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.app.flows import import_flow_file
from migrator.app.planning import plan_waves
from migrator.app.schedule import compute, wave_loads
from migrator.app.snapshots import store_inventory
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from migrator.inventory_import import read_export
from waves.parameters import PlanParameters
from waves.schedule import Schedule, WaveLoad, schedule
from waves.schedule_inputs import (
    Blackout,
    ScheduleInputs,
    Window,
    parse_bandwidth,
    parse_blackout,
    parse_duration,
    parse_start,
    parse_window,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
GOLDEN = FIXTURES / "golden"
SAT_NIGHT = parse_window("Sat 22:00-06:00")


def _inputs(**changes: object) -> ScheduleInputs:
    base: dict[str, object] = {
        "start": parse_start("2027-01-11", "UTC"),
        "windows": (SAT_NIGHT,),
        "bandwidth_mbps": 1000.0,
    }
    return ScheduleInputs(**{**base, **changes})  # type: ignore[arg-type]


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# -- worked by hand ----------------------------------------------------------------------------
def test_two_waves_share_the_link_then_the_second_speeds_up() -> None:
    # 1 Gbps at 80% = 800 Mbps; both replicate at 400 Mbps: wave 1's 360 GB (2,880,000 Mbit) take
    # 2 h; wave 2 has 2,880,000 of its 5,760,000 Mbit left and moves it at 800 Mbps in 1 h more.
    result = schedule([WaveLoad(1, "a", 360.0), WaveLoad(2, "b", 720.0, (1,))], _inputs(parallel_waves=2))
    one, two = result.waves
    assert (one.replication_start, one.replication_end) == (
        _utc("2027-01-11T00:00"),
        _utc("2027-01-11T02:00"),
    )
    assert (two.replication_start, two.replication_end) == (
        _utc("2027-01-11T00:00"),
        _utc("2027-01-11T03:00"),
    )
    assert [(s.start, s.end, s.mbps) for s in two.shares] == [
        (_utc("2027-01-11T00:00"), _utc("2027-01-11T02:00"), 400.0),
        (_utc("2027-01-11T02:00"), _utc("2027-01-11T03:00"), 800.0),
    ]
    # wave 1 takes the first Saturday night; wave 2 waits for its rollback deadline (+24 h settle)
    assert (one.cutover_start, one.cutover_end) == (_utc("2027-01-16T22:00"), _utc("2027-01-17T06:00"))
    assert one.rollback_deadline == _utc("2027-01-18T06:00")
    assert two.cutover_start == _utc("2027-01-23T22:00")
    assert [r.kind for r in two.reasons] == ["start", "bandwidth", "dependency", "window"]
    assert two.reasons[2].text == "waits for wave 1 to settle: its rollback deadline is 2027-01-18 06:00"
    assert result.end == _utc("2027-01-24T06:00")


def test_one_slot_makes_the_second_wave_wait_and_a_blackout_skips_windows() -> None:
    inputs = _inputs(blackouts=(parse_blackout("2027-01-16..2027-01-17"),), settle=timedelta(0))
    one, two = schedule([WaveLoad(1, "a", 360.0), WaveLoad(2, "b", 360.0)], inputs).waves
    assert (two.replication_start, two.replication_end) == (
        _utc("2027-01-11T01:00"),
        _utc("2027-01-11T02:00"),
    )
    assert two.reasons[0].kind == "slot" and "wave(s) 1 finished then" in two.reasons[0].text
    # the night of the 16th touches the blackout: wave 1 goes on the 23rd, wave 2 (full) on the 30th
    assert one.cutover_start == _utc("2027-01-23T22:00")
    assert [r.text for r in one.reasons if r.kind == "blackout"] == [
        "skips the window(s) of 2027-01-16: blackout 2027-01-16..2027-01-17"
    ]
    assert two.cutover_start == _utc("2027-01-30T22:00")
    assert [r.kind for r in two.reasons] == ["slot", "bandwidth", "blackout", "full", "window"]


def test_a_window_in_berlin_across_the_spring_clock_change_is_seven_hours() -> None:
    inputs = _inputs(start=parse_start("2027-03-22", "Europe/Berlin"), timezone="Europe/Berlin")
    (wave,) = schedule([WaveLoad(1, "a", 1.0)], inputs).waves
    assert wave.cutover_start.astimezone(UTC) == _utc("2027-03-27T21:00")
    assert wave.cutover_end.astimezone(UTC) == _utc("2027-03-28T04:00")  # 06:00 CEST, not CET
    assert wave.cutover_start.isoformat() == "2027-03-27T22:00:00+01:00"


def test_a_dependency_on_a_later_wave_is_reported_not_waited_for() -> None:
    one, _two = schedule([WaveLoad(1, "a", 0.0, (2,)), WaveLoad(2, "b", 0.0)], _inputs()).waves
    assert ("order", "depends on wave 2, which the plan puts later: not waited for") in [
        (r.kind, r.text) for r in one.reasons
    ]


def test_no_free_window_within_three_years_is_a_usage_error() -> None:
    inputs = _inputs(blackouts=(Blackout(datetime(2027, 1, 1).date(), datetime(2031, 1, 1).date()),))
    with pytest.raises(UsageError, match="no change window after 2027-01-11 00:00 within three years"):
        schedule([WaveLoad(1, "a", 1.0)], inputs)


# -- parsers ----------------------------------------------------------------------------------
def test_parsers_read_what_users_type() -> None:
    assert parse_bandwidth("2Gbps") == 2000.0
    assert parse_bandwidth("500 Mbps") == 500.0
    assert parse_bandwidth("1.5Gbit/s") == 1500.0
    assert parse_window("saturday 22:00-06:00") == SAT_NIGHT
    assert parse_window("Wed 20:00-23:30").text == "Wed 20:00-23:30"
    assert parse_blackout("2027-02-01..2027-02-07").text == "2027-02-01..2027-02-07"
    assert parse_blackout("2027-02-01").text == "2027-02-01"
    assert parse_duration("2d") == timedelta(hours=48)
    assert parse_start("2027-01-11T08:30", "Europe/Berlin").isoformat() == "2027-01-11T08:30:00+01:00"


@pytest.mark.parametrize(
    ("call", "text", "fragment"),
    [
        (parse_bandwidth, "2GB/s", "{bandwidth} '2GB/s': expected a link speed in bits"),
        (parse_bandwidth, "0Mbps", "{bandwidth} '0Mbps': must be above 0"),
        (parse_bandwidth, "fast", "{bandwidth} 'fast'"),
        (parse_window, "Sat 25:00-06:00", "{window} 'Sat 25:00-06:00': hours are 00:00 to 23:59"),
        (parse_window, "Sun 22:00-22:00", "start and end are equal"),
        (parse_window, "Satx 22:00-06:00", "expected a weekday and hours"),
        (parse_blackout, "2027-02-07..2027-02-01", "its last day is before its first"),
        (parse_blackout, "February", "expected FIRST..LAST days"),
        (parse_duration, "forever", "{settle} 'forever': expected a duration"),
    ],
)
def test_parsers_refuse_bad_text_naming_the_field(call: object, text: str, fragment: str) -> None:
    with pytest.raises(UsageError) as caught:
        call(text)  # type: ignore[operator]
    assert fragment in caught.value.template


# -- properties --------------------------------------------------------------------------------
ZONES = ("UTC", "Europe/Berlin", "America/New_York", "Asia/Kolkata")


@st.composite
def plans(draw: st.DrawFn) -> list[WaveLoad]:
    count = draw(st.integers(1, 8))
    loads = []
    for number in range(1, count + 1):
        earlier = list(range(1, number))
        deps = draw(st.lists(st.sampled_from(earlier), unique=True, max_size=3)) if earlier else []
        gigabytes = draw(st.one_of(st.just(0.0), st.floats(0.5, 60_000, allow_nan=False)))
        loads.append(WaveLoad(number, f"wave {number}", round(gigabytes, 1), tuple(sorted(deps))))
    return loads


@st.composite
def schedule_inputs(draw: st.DrawFn) -> ScheduleInputs:
    zone = draw(st.sampled_from(ZONES))
    windows = []
    for _ in range(draw(st.integers(1, 3))):
        start, length = draw(st.integers(0, 47)) * 30, draw(st.integers(1, 24)) * 30
        end = (start + length) % 1440
        windows.append(
            parse_window(
                f"{('Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun')[draw(st.integers(0, 6))]} "
                f"{start // 60:02d}:{start % 60:02d}-{end // 60:02d}:{end % 60:02d}"
            )
        )
    blackouts = []
    for _ in range(draw(st.integers(0, 3))):
        first = datetime(2027, 1, 1) + timedelta(days=draw(st.integers(0, 120)))
        last = first + timedelta(days=draw(st.integers(0, 20)))
        blackouts.append(Blackout(first.date(), last.date()))
    return ScheduleInputs(
        start=parse_start(f"2027-01-{draw(st.integers(1, 28)):02d}T{draw(st.integers(0, 23)):02d}:00", zone),
        windows=tuple(windows),
        bandwidth_mbps=draw(st.sampled_from([50.0, 200.0, 1000.0, 2000.0, 10_000.0])),
        blackouts=tuple(blackouts),
        parallel_waves=draw(st.integers(1, 4)),
        per_window=draw(st.integers(1, 3)),
        settle=timedelta(hours=draw(st.integers(0, 72))),
        timezone=zone,
    )


def check_schedule(result: Schedule, loads: list[WaveLoad]) -> None:
    """Every property the schedule promises (docs/schedule.md)."""
    inputs = result.inputs
    by_number = {w.number: w for w in result.waves}
    assert sorted(by_number) == sorted(load.number for load in loads)
    zone = inputs.zone
    for wave in result.waves:
        assert inputs.start <= wave.replication_start <= wave.replication_end <= wave.cutover_start
        for dep in wave.depends_on:
            if dep < wave.number:  # no wave cuts over before its dependencies have settled
                assert by_number[dep].cutover_end <= by_number[dep].rollback_deadline <= wave.cutover_start
        local = wave.cutover_start.astimezone(zone)  # inside one occurrence of a window...
        assert any(
            w.weekday == local.weekday()
            and w.opening(local.date(), zone) == (wave.cutover_start, wave.cutover_end)
            for w in inputs.windows
        ), wave
        for blackout in inputs.blackouts:  # ...that touches no blackout day
            first, last = blackout.span(zone)
            assert not (wave.cutover_start < last and wave.cutover_end > first), (wave, blackout)
        assert wave.rollback_deadline == wave.cutover_end + inputs.settle
        moved = sum(s.mbps * (s.end - s.start).total_seconds() for s in wave.shares)
        assert moved == pytest.approx(
            wave.gigabytes * 8000, rel=1e-6, abs=inputs.bandwidth_mbps * 2 * len(wave.shares)
        )
    _check_link(result)
    starts = [w.cutover_start for w in result.waves]
    assert max((starts.count(s) for s in starts), default=0) <= inputs.per_window


def _check_link(result: Schedule) -> None:
    """The link is never oversubscribed and no more waves replicate at once than allowed."""
    shares = [s for w in result.waves for s in w.shares]
    edges = sorted({s.start for s in shares} | {s.end for s in shares})
    usable = result.inputs.bandwidth_mbps * result.inputs.efficiency
    for a, b in pairwise(edges):
        active = [s for s in shares if s.start <= a and s.end >= b and s.end > s.start]
        assert sum(s.mbps for s in active) <= usable * (1 + 1e-9)
        assert sum(s.mbps for s in active) <= result.inputs.bandwidth_mbps
        replicating = [w for w in result.waves if w.replication_start <= a and w.replication_end >= b]
        assert len(replicating) <= result.inputs.parallel_waves


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(loads=plans(), inputs=schedule_inputs())
def test_properties_hold_on_generated_plans(loads: list[WaveLoad], inputs: ScheduleInputs) -> None:
    try:
        result = schedule(loads, inputs)
    except UsageError as exc:  # only when blackouts leave no window: then it must say so
        assert "no change window" in exc.message
        return
    check_schedule(result, loads)


@settings(max_examples=40, deadline=None)
@given(loads=plans(), inputs=schedule_inputs(), seed=st.integers(0, 1000))
def test_the_schedule_is_deterministic_and_ignores_input_order(
    loads: list[WaveLoad], inputs: ScheduleInputs, seed: int
) -> None:
    shuffled = list(loads)
    random.Random(seed).shuffle(shuffled)
    try:
        first = schedule(loads, inputs)
    except UsageError:
        with pytest.raises(UsageError):
            schedule(shuffled, inputs)
        return
    assert schedule(shuffled, inputs) == first == schedule(loads, inputs)


def test_the_synthetic_300_plan_schedules_within_its_dependencies(tmp_path: Path) -> None:
    ws = Workspace.open(tmp_path / "ws")
    store_inventory(
        ws, "import", "synthetic-300.json", read_export(FIXTURES / "inventories" / "synthetic-300.json")
    )
    import_flow_file(ws, FIXTURES / "flows" / "synthetic-300.csv")
    plan = plan_waves(ws, PlanParameters()).document
    ws.close()
    loads = wave_loads(plan, "used")
    assert any(load.depends_on for load in loads)  # the plan has cross-wave dependencies to honour
    inputs = _inputs(
        windows=(SAT_NIGHT, parse_window("Wed 20:00-23:00")),
        blackouts=(parse_blackout("2027-02-01..2027-02-07"),),
        parallel_waves=3,
        bandwidth_mbps=2000.0,
    )
    check_schedule(schedule(loads, inputs), loads)
    document = compute(plan, inputs)
    assert [w["number"] for w in document["waves"]] == [w["number"] for w in plan["waves"]]
    assert json.dumps(document) == json.dumps(compute(plan, inputs))  # byte-identical twice


def test_wave_loads_take_used_or_provisioned_disk_and_skip_shared_services() -> None:
    plan = json.loads((GOLDEN / "waves-demo.json").read_text(encoding="utf-8"))
    used = {load.number: load for load in wave_loads(plan, "used")}
    provisioned = {load.number: load for load in wave_loads(plan, "provisioned")}
    assert [(n, load.gigabytes) for n, load in used.items()] == [
        (w["number"], w["metrics"]["replicate_gb"]) for w in plan["waves"]
    ]
    assert [load.gigabytes for load in provisioned.values()] == [
        w["metrics"]["storage_gb"] for w in plan["waves"]
    ]
    shared = {s["vm"] for s in plan["shared_services"]}
    assert shared  # the demo has shared services: the pilot depends on them but does not wait
    for number, load in used.items():
        expected = {
            e["wave"]
            for info in plan["vms"].values()
            if info["wave"] == number
            for e in info["depends_on"]
            if e["wave"] not in (None, number) and e["vm"] not in shared
        }
        assert set(load.depends_on) == expected


def test_window_round_trips_through_its_text() -> None:
    for text in ("Mon 00:00-23:59", "Sun 23:30-00:30", "Fri 08:00-09:00"):
        window = parse_window(text)
        assert isinstance(window, Window) and parse_window(window.text) == window


def test_a_link_too_slow_for_ten_years_is_a_usage_error_not_an_overflow() -> None:
    with pytest.raises(UsageError) as caught:
        schedule([WaveLoad(1, "a", 5000.0)], _inputs(bandwidth_mbps=parse_bandwidth("1bps")))
    assert caught.value.template == "replication would take over ten years at 1e-06 Mbps: check {bandwidth}"
