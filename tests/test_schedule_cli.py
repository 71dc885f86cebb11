"""`migrator schedule` through the real CLI on the demo plan: table, JSON and iCalendar, the
stored schedule (cutover_times, PLAN.md), and one-line errors with their exit codes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from icalendar import Calendar

from migrator.app.schedule import cutover_times, stored_schedule
from migrator.app.schedule_ics import to_ics
from migrator.app.workspace import Workspace
from migrator.errors import ExitCode
from migrator.simulator.__main__ import DEMO_SCHEDULE
from tests.golden import workspace_with
from tests.helpers import assert_one_line_error, migrator

BASE = ("schedule", "--start", "2027-01-11", "--window", "Sat 22:00-06:00", "--bandwidth", "2Gbps")
DEMO_WAVES = [
    "Pilot: payroll, lager",
    "Prod: active-directory, dns, legacy web (old) +1",
    "Prod (critical): shop, crm",
]


@pytest.fixture(scope="module")
def planned(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace_with(tmp_path_factory.mktemp("schedule"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    return ws


def test_json_gives_every_wave_its_dates_and_reasons(planned: Path) -> None:
    result = migrator(*BASE, "--blackout", "2027-01-25..2027-01-31", "--format", "json", workspace=planned)
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["plan_id"] == 1 and doc["inputs"]["windows"] == ["Sat 22:00-06:00"]
    assert [w["name"] for w in doc["waves"]] == DEMO_WAVES
    # 230 GB at 1600 usable Mbps: 1150 s; one wave replicates at a time, one cutover per window
    one, two, three = doc["waves"]
    assert (one["replication_start"], one["replication_end"]) == (
        "2027-01-11T00:00:00+00:00",
        "2027-01-11T00:19:10+00:00",
    )
    assert two["replication_start"] == one["replication_end"]
    assert [w["cutover_start"] for w in doc["waves"]] == [
        "2027-01-16T22:00:00+00:00",
        "2027-01-23T22:00:00+00:00",
        "2027-02-06T22:00:00+00:00",  # the 30th falls in the blackout
    ]
    assert three["rollback_deadline"] == "2027-02-08T06:00:00+00:00"
    assert {
        "kind": "blackout",
        "text": "skips the window(s) of 2027-01-30: blackout 2027-01-25..2027-01-31",
    } in three["why"]
    assert doc["end"] == "2027-02-07T06:00:00+00:00"
    assert any("Business approvals" in line for line in doc["cannot_know"])


def test_table_lists_waves_and_why(planned: Path) -> None:
    result = migrator(*BASE, workspace=planned)
    assert result.code == 0, result.stderr
    assert "of plan 1" in result.stdout
    assert "2027-01-16 22:00 to 2027-01-17 06:00" in result.stdout
    assert "wave 2: replication starts 2027-01-11 00:19: waits for a slot" in result.stdout
    assert "last cutover window ends 2027-01-31T06:00:00+00:00" in result.stdout


def test_ics_has_one_event_per_cutover_with_its_runbook(planned: Path) -> None:
    base = "https://git.example.com/plans/-/blob/main"
    result = migrator(
        *BASE, "--timezone", "Europe/Berlin", "--format", "ics", "--runbook-base", base, workspace=planned
    )
    assert result.code == 0, result.stderr
    events = Calendar.from_ical(result.stdout.encode()).walk("VEVENT")
    assert [str(e["uid"]) for e in events] == [f"plan-1-wave-{n}@migrator" for n in (1, 2, 3)]
    assert [str(e["summary"]) for e in events] == [
        f"Cutover wave {n}: {name}" for n, name in enumerate(DEMO_WAVES, 1)
    ]
    first = events[0]
    assert first.decoded("dtstart") == datetime(2027, 1, 16, 21, 0, tzinfo=UTC)  # 22:00 in Berlin
    assert first.decoded("dtend") == datetime(2027, 1, 17, 5, 0, tzinfo=UTC)
    assert str(first["url"]) == f"{base}/terraform-aws/wave-01/PLAN.md#cutover-runbook"
    assert str(first["description"]).startswith(
        f"Runbook: {base}/terraform-aws/wave-01/PLAN.md#cutover-runbook\n"
    )
    assert "BEGIN:VTIMEZONE" in result.stdout and "TZID:Europe/Berlin" in result.stdout


def test_a_hostile_wave_name_stays_one_summary() -> None:
    doc = {
        "plan_id": 7,
        "runbook_target": "kubevirt",
        "inputs": {"start": "2027-01-11T00:00:00+00:00"},
        "schedule": {"created_at": "2026-12-07T05:00:00Z"},
        "waves": [
            {
                "number": 1,
                "name": "evil\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nSUMMARY:owned; x, y \\",
                "cutover_start": "2027-01-16T22:00:00+00:00",
                "cutover_end": "2027-01-17T06:00:00+00:00",
                "replication_start": "2027-01-11T00:00:00+00:00",
                "replication_end": "2027-01-11T01:00:00+00:00",
                "rollback_deadline": "2027-01-18T06:00:00+00:00",
                "why": [],
            }
        ],
    }
    events = Calendar.from_ical(to_ics(doc)).walk("VEVENT")
    assert len(events) == 1
    assert str(events[0]["summary"]) == "Cutover wave 1: evil END:VEVENT BEGIN:VEVENT SUMMARY:owned; x, y \\"
    assert "url" not in events[0]  # no base given: the runbook link is relative, in the description


def test_the_schedule_is_stored_with_the_plan_and_gives_cutover_times(planned: Path) -> None:
    assert (
        migrator(*BASE, "--window", "Wed 20:00-23:00", "--parallel-waves", "2", workspace=planned).code == 0
    )
    ws = Workspace.open(planned)
    try:
        stored = stored_schedule(ws)
        assert stored["inputs"]["windows"] == ["Sat 22:00-06:00", "Wed 20:00-23:00"]
        assert cutover_times(ws) == {
            1: datetime(2027, 1, 13, 20, 0, tzinfo=UTC),
            2: datetime(2027, 1, 16, 22, 0, tzinfo=UTC),
            3: datetime(2027, 1, 20, 20, 0, tzinfo=UTC),
        }
    finally:
        ws.close()


def test_plan_md_shows_the_waves_schedule(planned: Path, tmp_path: Path) -> None:
    assert migrator(*BASE, workspace=planned).code == 0
    out = tmp_path / "out"
    result = migrator(
        "plan", "--target", "terraform-aws", "--wave", "1", "--out", str(out), "--no-tools", workspace=planned
    )
    assert result.code in (0, 7), result.stderr
    plan_md = (out / "terraform-aws" / "wave-01" / "PLAN.md").read_text(encoding="utf-8")
    assert "## Schedule" in plan_md
    assert "| cutover window (Sat 22:00-06:00) | 2027-01-16 22:00 | 2027-01-17 06:00 |" in plan_md
    assert "| rollback possible until | | 2027-01-18 06:00 |" in plan_md
    assert "What the schedule cannot know:" in plan_md and "Business approvals" in plan_md
    assert plan_md.index("## Schedule") < plan_md.index("## Cutover runbook")


def test_plan_md_without_a_schedule_has_no_schedule_section(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path / "ws", "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    out = tmp_path / "out"
    result = migrator(
        "plan", "--target", "terraform-aws", "--wave", "1", "--out", str(out), "--no-tools", workspace=ws
    )
    assert result.code in (0, 7), result.stderr
    assert "## Schedule" not in (out / "terraform-aws" / "wave-01" / "PLAN.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "code", "fragment"),
    [
        (
            ("--window", "Sax 22:00-06:00"),
            ExitCode.USAGE,
            "--window 'Sax 22:00-06:00': expected a weekday and hours",
        ),
        (
            ("--blackout", "2027-02-07..2027-02-01"),
            ExitCode.USAGE,
            "--blackout '2027-02-07..2027-02-01': its last day",
        ),
        (("--bandwidth", "2GB/s"), ExitCode.USAGE, "--bandwidth '2GB/s': expected a link speed in bits"),
        (("--timezone", "Mars/Olympus"), ExitCode.USAGE, "--timezone 'Mars/Olympus': not an IANA time zone"),
        (("--settle", "soon"), ExitCode.USAGE, "--settle 'soon': expected a duration"),
        (("--parallel-waves", "0"), ExitCode.USAGE, "--parallel-waves must be 1 to 100"),
        (("--basis", "thin"), ExitCode.USAGE, "--basis 'thin': used or provisioned"),
        (("--plan", "99"), ExitCode.NOT_FOUND, "no wave plan with id 99"),
    ],
)
def test_bad_input_is_one_line_and_a_documented_exit_code(
    planned: Path, change: tuple[str, ...], code: int, fragment: str
) -> None:
    args = list(BASE)
    if change[0] in args:
        args[args.index(change[0]) + 1] = change[1]
    else:
        args.extend(change)
    assert_one_line_error(migrator(*args, workspace=planned), code, fragment)


def test_no_plan_yet_is_not_found(tmp_path: Path) -> None:
    ws = workspace_with(tmp_path, "demo.json", "demo-flows.csv")
    assert_one_line_error(migrator(*BASE, workspace=ws), ExitCode.NOT_FOUND, "no wave plan yet")


def test_the_demos_schedule_command_runs_on_the_demo_plan(planned: Path) -> None:
    """`make demo` runs DEMO_SCHEDULE after `waves plan` on the discovered demo estate, whose
    export is fixtures/inventories/demo.json."""
    result = migrator(*DEMO_SCHEDULE, "--format", "json", workspace=planned)
    assert result.code == 0, result.stderr
    doc = result.json()
    assert doc["inputs"]["blackouts"] == ["2027-02-01..2027-02-07"]
    assert [w["cutover_start"] for w in doc["waves"]] == [
        "2027-01-16T22:00:00+00:00",
        "2027-01-23T22:00:00+00:00",
        "2027-01-30T22:00:00+00:00",
    ]
