"""The CMDB drift page in Debian's headless Chromium (Playwright), on a workspace whose CMDB export
carries hostile text: it is shown as text, no script runs, no dialog opens."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.test_web_browser import (
    Server,
    launch,
    shots,  # noqa: F401  (the screenshot folder fixture)
    snap,
)
from tests.web_cmdb_helpers import CMDB_SCRIPT, ORPHAN_CI, cmdb_workspace


@pytest.fixture(scope="module")
def cmdb_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ws = cmdb_workspace(tmp_path_factory.mktemp("browser-cmdb") / "ws")
    with Server(ws) as server:
        yield server.url
    ws.close()


@pytest.fixture(scope="module")
def cmdb_page(cmdb_site: str) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = launch(p)
        pg = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("dialog", lambda d: errors.append(f"dialog: {d.message}"))
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def test_cmdb_drift_page_from_the_nav(cmdb_page: Page, cmdb_site: str, shots) -> None:  # noqa: F811
    cmdb_page.goto(cmdb_site + "/")
    cmdb_page.click("nav >> text=CMDB drift")
    cmdb_page.wait_for_url("**/cmdb")
    assert "mismatches" in cmdb_page.locator("#cmdb-summary").inner_text()
    rows = cmdb_page.locator("#cmdb-mismatches tbody tr")
    texts = [rows.nth(i).inner_text() for i in range(rows.count())]
    assert any("cpu\t99\t4" in t for t in texts)
    assert any(CMDB_SCRIPT in t for t in texts)  # the hostile application, shown as text
    assert ORPHAN_CI in cmdb_page.locator("#cmdb-orphans").inner_text()
    assert cmdb_page.locator("main img").count() == 0 and cmdb_page.locator("main script").count() == 0
    snap(cmdb_page, shots, "cmdb")
    cmdb_page.locator("#cmdb-mismatches a[href^='/vms/crm-app-01']").first.click()
    cmdb_page.wait_for_url("**/vms/crm-app-01")
    assert cmdb_page.locator("#business-facts").inner_text().count("inventory") >= 1
    cmdb_page.wait_for_timeout(300)
    assert cmdb_page.errors == []  # type: ignore[attr-defined]
