"""The schedule timeline in Debian's headless Chromium (Playwright): reached from the navigation,
drawn as SVG (a replication bar and a cutover window per wave), and a what-if with more
bandwidth shows the earlier end date; hostile wave names stay text, no script runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.test_web_browser import (
    Server,
    launch,
    shots,  # noqa: F401  (the screenshot folder fixture)
    snap,
)
from tests.web_helpers import HOSTILE_APP, planned_workspace


@pytest.fixture(scope="module")
def schedule_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ws = planned_workspace(tmp_path_factory.mktemp("browser-schedule") / "ws", land=False)
    with Server(ws) as server:
        yield server.url
    ws.close()


@pytest.fixture(scope="module")
def schedule_page(schedule_site: str) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def test_timeline_from_the_nav_and_a_bandwidth_what_if(
    schedule_page: Page,
    schedule_site: str,
    shots: Path,  # noqa: F811
) -> None:
    page = schedule_page
    page.goto(schedule_site + "/")
    page.click("nav >> text=Schedule")
    page.wait_for_url("**/schedule")
    assert page.locator("#schedule-end").inner_text() == "2027-02-14T06:00:00+00:00"
    rows = page.locator("#schedule-timeline g.wave-row")
    assert [rows.nth(i).get_attribute("data-wave") for i in range(rows.count())] == ["1", "2", "3"]
    for kind in ("repl", "cut", "settle"):
        assert page.locator(f"#schedule-timeline rect.{kind}").count() == 3
    box = page.locator("#schedule-timeline rect.cut").first.bounding_box()
    assert box is not None and box["width"] > 1 and box["height"] > 1  # drawn, not just present
    labels = page.locator("#schedule-timeline text.wave-label").all_text_contents()  # SVG: no innerText
    assert labels[0] == "1: Pilot: payroll, lager"
    assert labels[1] == "2: Prod: active-directory, dns, java…"  # long names are cut in the chart...
    assert HOSTILE_APP in page.locator("#schedule-waves").inner_text()  # ...and shown whole, as text
    snap(page, shots, "schedule")
    page.fill("#schedule-whatif input[name=bandwidth]", "1Gbps")
    page.click("#whatif-run")
    page.wait_for_selector("#whatif-end")
    assert page.locator("#whatif-end").inner_text() == "2027-01-31T06:00:00+00:00"
    moved = page.locator("#whatif-moved tr").all_inner_texts()
    assert moved == [
        "2\t2027-01-30T22:00:00+00:00\t2027-01-23T22:00:00+00:00",
        "3\t2027-02-13T22:00:00+00:00\t2027-01-30T22:00:00+00:00",
    ]
    assert page.locator("main script").count() == 0
    page.wait_for_timeout(200)
    assert page.errors == []  # type: ignore[attr-defined]


def test_a_bad_what_if_says_why_on_the_page(schedule_page: Page, schedule_site: str) -> None:
    page = schedule_page
    page.goto(schedule_site + "/schedule")
    page.fill("#schedule-whatif input[name=windows]", "Sat 22:00-06:00, Funday 10:00-11:00")
    page.click("#whatif-run")
    page.wait_for_selector("#whatif-error")
    assert (
        page.locator("#whatif-error")
        .inner_text()
        .startswith("window 'Funday 10:00-11:00': expected a weekday")
    )
    assert page.locator("#schedule-end").inner_text() == "2027-02-14T06:00:00+00:00"  # the stored one, still
