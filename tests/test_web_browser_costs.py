"""The wave page's monthly cost per cloud in Debian's headless Chromium (Playwright): the figures
the stored plan holds for the wave, with the cheapest cloud marked."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

from migrator.app.workspace import Workspace
from tests.test_web_browser import (
    Server,
    launch,
    shots,  # noqa: F401  (the screenshot folder fixture)
    snap,
)
from tests.web_helpers import planned_workspace


@pytest.fixture(scope="module")
def costs_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Workspace]]:
    ws = planned_workspace(tmp_path_factory.mktemp("browser-costs") / "ws")
    with Server(ws) as server:
        yield server.url, ws
    ws.close()


@pytest.fixture(scope="module")
def costs_page(costs_site: tuple[str, Workspace]) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def test_wave_page_shows_each_clouds_cost_and_the_cheapest(
    costs_page: Page,
    costs_site: tuple[str, Workspace],
    shots,  # noqa: F811
) -> None:
    site, ws = costs_site
    doc = ws.plans.get(None)  # the latest plan, as the dashboard shows it
    for wave in doc["waves"]:
        costs_page.goto(f"{site}/waves/{wave['number']}")
        shown = {}
        for row in costs_page.locator("#wave-cloud-costs tbody tr").all():
            cells = row.locator("td").all_inner_texts()
            shown[row.get_attribute("data-cloud")] = (float(cells[1].replace(",", "")), cells[2].strip())
        metrics = wave["metrics"]
        assert {c: v[0] for c, v in shown.items()} == {
            c: metrics[f"{c}_monthly_usd"] for c in ("aws", "azure", "gcp")
        }
        marked = [c for c, v in shown.items() if v[1] == "cheapest"]
        assert marked == [metrics["cheapest_cloud"]]
        assert marked[0] == min(shown, key=lambda c: shown[c][0])
    costs_page.goto(site + "/")
    header = costs_page.locator("table thead th").all_inner_texts()
    assert "Cheapest cloud" in header
    snap(costs_page, shots, "overview-costs")
    assert costs_page.errors == []  # type: ignore[attr-defined]
