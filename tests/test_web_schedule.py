"""The schedule on the dashboard through FastAPI's TestClient, on the planned workspace (its
schedule: tests.web_helpers.SCHEDULE, a 20 Mbps link): the JSON, the what-if, the timeline
page with hostile wave names, and the dashboard's host and token checks on the new routes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from migrator.app.workspace import Workspace
from migrator.web.app import create_app
from migrator.web.schedule_pages import LABEL, WIDTH, timeline
from migrator.web.security import Guard
from tests.web_helpers import HOSTILE_APP, local_client, planned_workspace

STORED_CUTOVERS = ["2027-01-16T22:00:00+00:00", "2027-01-30T22:00:00+00:00", "2027-02-13T22:00:00+00:00"]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = planned_workspace(tmp_path_factory.mktemp("web-schedule") / "ws", land=False)
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def client(ws: Workspace) -> TestClient:
    return local_client(create_app(ws, Guard()))


def test_api_schedule_is_the_stored_schedule(client: TestClient) -> None:
    doc = client.get("/api/schedule").json()
    assert (doc["plan_id"], doc["schedule"]["id"]) == (1, 1)
    # at 20 Mbps (16 usable) wave 2's 2130 GB take 12.3 days: it misses the 23rd; the blackout
    # takes Feb 6 from wave 3
    assert [w["cutover_start"] for w in doc["waves"]] == STORED_CUTOVERS
    assert doc["end"] == "2027-02-14T06:00:00+00:00"


def test_whatif_with_more_bandwidth_ends_earlier_and_stores_nothing(
    client: TestClient, ws: Workspace
) -> None:
    result = client.get("/api/schedule/whatif", params={"bandwidth": "1Gbps"}).json()
    assert (result["end_before"], result["end_after"]) == (
        "2027-02-14T06:00:00+00:00",
        "2027-01-31T06:00:00+00:00",
    )
    assert result["moved"] == [
        {"number": 2, "before": "2027-01-30T22:00:00+00:00", "after": "2027-01-23T22:00:00+00:00"},
        {"number": 3, "before": "2027-02-13T22:00:00+00:00", "after": "2027-01-30T22:00:00+00:00"},
    ]
    assert [w["cutover_start"] for w in client.get("/api/schedule").json()["waves"]] == STORED_CUTOVERS
    assert ws.schedules.latest(1)["schedule"]["id"] == 1  # type: ignore[index]


def test_whatif_with_another_window(client: TestClient) -> None:
    result = client.get("/api/schedule/whatif", params={"windows": "Wed 20:00-23:00"}).json()
    assert result["after"]["inputs"]["windows"] == ["Wed 20:00-23:00"]
    # replication ends: wave 1 Jan 12 07:56, wave 2 Jan 24 15:46, wave 3 (3260 GB, 18.9 days) Feb 12 12:40
    assert [w["cutover_start"][:16] for w in result["after"]["waves"]] == [
        "2027-01-13T20:00",
        "2027-01-27T20:00",
        "2027-02-17T20:00",
    ]


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"bandwidth": "fast"}, "bandwidth 'fast': expected a link speed in bits"),
        ({"windows": "Caturday 22:00-06:00"}, "window 'Caturday 22:00-06:00': expected a weekday and hours"),
    ],
)
def test_whatif_bad_input_is_422_naming_the_field(
    client: TestClient, params: dict[str, str], detail: str
) -> None:
    response = client.get("/api/schedule/whatif", params=params)
    assert response.status_code == 422
    assert detail in response.json()["detail"]


def test_timeline_page_draws_every_wave_and_escapes_names(client: TestClient) -> None:
    html = client.get("/schedule").text
    assert len(re.findall(r'<rect class="repl"', html)) == 3
    assert len(re.findall(r'<rect class="cut"', html)) == 3
    assert re.findall(r'<g class="wave-row" data-wave="(\d+)"', html) == ["1", "2", "3"]
    assert '<line class="dep"' not in html  # the demo's waves depend only on shared services
    assert "<title>blackout 2027-02-01..2027-02-07</title>" in html
    assert HOSTILE_APP in html  # a wave named after the hostile application, as text
    assert "<script>alert" not in html and "onerror=" not in html
    assert 'href="/schedule"' in html  # in the navigation
    assert "Business approvals" in html


def test_timeline_page_whatif_shows_the_new_end_date(client: TestClient) -> None:
    html = client.get("/schedule", params={"bandwidth": "1Gbps"}).text
    assert '<b id="whatif-end">2027-01-31T06:00:00+00:00</b> instead of 2027-02-14T06:00:00+00:00' in html
    bad = client.get("/schedule", params={"bandwidth": "<b>x</b>"}).text
    assert "bandwidth &#39;&lt;b&gt;x&lt;/b&gt;&#39;: expected a link speed" in bad


def test_no_schedule_yet_says_how_to_make_one(tmp_path: Path) -> None:
    from migrator.app.planning import plan_waves
    from migrator.app.snapshots import store_inventory
    from tests.web_helpers import hostile_inventory
    from waves.parameters import PlanParameters

    bare = Workspace.open(tmp_path / "ws")
    store_inventory(bare, "import", "demo.json", hostile_inventory())
    plan_waves(bare, PlanParameters())
    client = local_client(create_app(bare, Guard()))
    assert client.get("/api/schedule").status_code == 404
    assert "no schedule for plan 1 yet" in client.get("/schedule").text
    bare.close()


def test_schedule_routes_keep_the_dashboard_checks(ws: Workspace) -> None:
    foreign = TestClient(create_app(ws, Guard()), base_url="http://attacker.example")
    assert foreign.get("/api/schedule").status_code == 421
    locked = local_client(create_app(ws, Guard(token="s3cret")))
    assert locked.get("/api/schedule/whatif", params={"bandwidth": "1Gbps"}).status_code == 401
    assert locked.get("/schedule", follow_redirects=False).headers["location"] == "/login"


def test_timeline_draws_a_dependency_from_settled_to_cutover() -> None:
    def wave(number: int, cut: str, depends: list[int]) -> dict[str, object]:
        return {
            "number": number,
            "name": f"w{number}",
            "depends_on": depends,
            "replication_start": "2027-01-01T00:00:00+00:00",
            "replication_end": "2027-01-02T00:00:00+00:00",
            "cutover_start": f"2027-01-{cut}T00:00:00+00:00",
            "cutover_end": f"2027-01-{cut}T08:00:00+00:00",
            "rollback_deadline": f"2027-01-{int(cut) + 1:02d}T08:00:00+00:00",
            "why": [],
        }

    inputs = {
        "start": "2027-01-01T00:00:00+00:00",
        "windows": ["Sat 22:00-06:00"],
        "blackouts": ["2027-01-07..2027-01-08"],
        "bandwidth_mbps": 100,
        "parallel_waves": 1,
        "per_window": 1,
        "settle_hours": 24,
        "timezone": "UTC",
        "basis": "used",
    }
    layout = timeline({"waves": [wave(1, "05", []), wave(2, "10", [1])], "inputs": inputs})
    # 10 days and 8 h from the first replication start to the last rollback deadline over 830 units
    per_hour = (WIDTH - LABEL - 10) / (10 * 24 + 8)
    assert layout["deps"] == [
        {
            "x1": round(LABEL + per_hour * (5 * 24 + 8), 1),
            "y1": 40,
            "x2": round(LABEL + per_hour * 9 * 24, 1),
            "y2": 74,
        }
    ]
    assert [t["label"] for t in layout["ticks"]] == ["04 Jan", "11 Jan"]
    start, end = round(LABEL + per_hour * 6 * 24, 1), round(LABEL + per_hour * 8 * 24, 1)
    assert layout["blackouts"] == [
        {"x": start, "w": round(end - start, 1), "label": "2027-01-07..2027-01-08"}
    ]
