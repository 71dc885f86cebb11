"""End to end in Debian's headless Chromium, driven by Playwright for Python (never a downloaded browser).

A real uvicorn server on 127.0.0.1 serves a real planned workspace; screenshots land in
$MIGRATOR_SCREENSHOTS (default: the test's tmp folder), and `UPDATE_SCREENSHOTS=1` refreshes docs/img/.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from playwright.sync_api import Browser, Page, expect, sync_playwright

from migrator.app.workspace import Workspace
from migrator.web.app import create_app
from migrator.web.security import Guard
from tests.web_helpers import HOSTILE_VM, planned_workspace

os.environ.setdefault("PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD", "1")
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img"


def launch(p: object) -> Browser:
    return p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)  # type: ignore[attr-defined]


class Server:
    """uvicorn in a thread on a free loopback port."""

    def __init__(self, ws: Workspace) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        config = uvicorn.Config(create_app(ws, Guard()), log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> Server:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and time.monotonic() < deadline:
            time.sleep(0.05)
        assert self.server.started
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    ws = planned_workspace(tmp_path_factory.mktemp("browser") / "ws")
    with Server(ws) as server:
        yield server.url
    ws.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = Path(os.environ.get("MIGRATOR_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def page(site: str) -> Iterator[Page]:
    with sync_playwright() as p:
        browser = launch(p)
        context = browser.new_context(viewport={"width": 1400, "height": 1000})
        pg = context.new_page()
        errors: list[str] = []
        pg.on("pageerror", lambda exc: errors.append(str(exc)))
        pg.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
        pg.on(
            "dialog", lambda d: errors.append(f"dialog: {d.message}")
        )  # an executed alert() would land here
        pg.errors = errors  # type: ignore[attr-defined]
        yield pg
        browser.close()


def snap(page: Page, shots: Path, name: str) -> None:
    path = shots / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    assert path.stat().st_size > 5000
    if os.environ.get("UPDATE_SCREENSHOTS") == "1":
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, DOCS_IMG / f"dashboard-{name}.png")


def test_overview(page: Page, site: str, shots: Path) -> None:
    page.goto(site + "/")
    assert page.locator("h1").inner_text().startswith("Overview")
    assert page.locator(".card b").first.inner_text() == "16"
    assert page.locator("#timeline .wave").count() >= 2
    for _ in range(300):  # the first look at a snapshot fills its findings in the background
        if page.locator("#findings-counts li").count() == 3:
            break
        page.wait_for_timeout(200)
        page.reload()
    assert page.locator("#findings-counts li").count() == 3
    snap(page, shots, "overview")
    assert page.errors == []  # type: ignore[attr-defined]


def test_wave_page_renders_its_graph_with_sigma(page: Page, site: str, shots: Path) -> None:
    with page.expect_response(lambda r: "/api/graph" in r.url) as graph_response:
        page.goto(site + "/waves/1")
    data = graph_response.value.json()
    assert data["nodes"] and any(n["wave"] == 1 for n in data["nodes"])
    page.wait_for_selector("#graph[data-rendered]")
    assert page.get_attribute("#graph", "data-rendered") == str(len(data["nodes"]))
    assert page.locator("#graph canvas").count() >= 2  # sigma's WebGL layers
    assert "cross-wave" in page.locator("#graph-status").inner_text()
    snap(page, shots, "wave")
    assert page.errors == []  # type: ignore[attr-defined]


def test_full_graph_and_click_through_to_a_vm(page: Page, site: str, shots: Path) -> None:
    with page.expect_response(lambda r: "/api/graph" in r.url) as graph_response:
        page.goto(site + "/graph")
    nodes = graph_response.value.json()["nodes"]
    assert len([n for n in nodes if n["kind"] == "vm"]) == 16 and len(nodes) == 19  # + 3 external endpoints
    page.wait_for_selector("#graph[data-rendered='19'][data-probe]")
    snap(page, shots, "graph")
    probe = json.loads(page.get_attribute("#graph", "data-probe") or "{}")
    box = page.locator("#graph").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + probe["x"], box["y"] + probe["y"])  # a real click on the WebGL node
    page.wait_for_url("**/vms/**")
    assert page.locator("h1").inner_text() == probe["id"]
    page.goto(site + "/vms/crm-app-01")
    assert page.locator("h1").inner_text() == "crm-app-01"
    assert page.locator("text=Dependencies with evidence").count() == 1
    assert page.locator("#business-facts").count() == 1
    snap(page, shots, "vm")


def test_clicking_an_external_node_opens_its_endpoint_page(page: Page, site: str, shots: Path) -> None:
    page.goto(site + "/graph")
    page.wait_for_selector("#graph[data-rendered='19'][data-probe-external]")
    assert "3 external endpoints" in page.locator("#graph-status").inner_text()
    probe = json.loads(page.get_attribute("#graph", "data-probe-external") or "{}")
    assert probe["id"] == "ext:192.0.2.10" and probe["url"] == "/endpoints/192.0.2.10"
    box = page.locator("#graph").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + probe["x"], box["y"] + probe["y"])  # a real click on the WebGL node
    page.wait_for_url("**/endpoints/192.0.2.10")
    assert page.locator("h1").inner_text() == "192.0.2.10 external endpoint"
    assert "tcp/443" in page.locator("#endpoint-totals").inner_text()
    snap(page, shots, "endpoint")
    page.click("#endpoint-peers >> text=payroll-app-dev")
    page.wait_for_url("**/vms/payroll-app-dev")
    page.click("text=192.0.2.10")  # the VM page's dependency table links it back
    page.wait_for_url("**/endpoints/192.0.2.10")
    wave = page.locator("#endpoint-waves a").first
    number = wave.inner_text()
    wave.click()
    page.wait_for_url(f"**/waves/{number}")
    assert page.locator("#wave-endpoints").inner_text().count("192.0.2.10") == 1
    assert page.errors == []  # type: ignore[attr-defined]


def test_pin_from_the_vm_page_shows_the_replanned_diff(page: Page, site: str) -> None:
    page.goto(site + "/vms/crm-app-01")
    other = page.locator("#pin select option:not([selected])").first.get_attribute("value")
    assert other
    page.select_option("#pin select", other)
    page.click("#pin-preview")
    page.wait_for_url("**/whatif?**")
    expect(page.locator("#whatif-status")).to_contain_text("Nothing saved yet", timeout=60_000)
    assert page.input_value("input[name=vm]") == "crm-app-01"
    assert page.input_value("select[name=wave]") == other
    moved = page.locator("#moved").inner_text()
    assert "crm-app-01" in moved and f"\t{other}\t" in moved
    assert page.is_enabled("#save")  # saving stays a separate, CSRF-protected POST
    assert page.errors == []  # type: ignore[attr-defined]


def test_pin_form_of_a_hostile_vm_carries_its_name_as_text(page: Page, site: str) -> None:
    page.goto(site + "/vms/" + HOSTILE_VM.replace("/", "%2F"))
    page.click("#pin-preview")
    page.wait_for_url("**/whatif?**")
    expect(page.locator("#whatif-status")).to_contain_text("Nothing saved yet", timeout=60_000)
    assert page.input_value("input[name=vm]") == HOSTILE_VM
    assert page.locator("main img").count() == 0
    assert page.errors == []  # type: ignore[attr-defined]


def test_hostile_vm_page_runs_no_script(page: Page, site: str) -> None:
    page.goto(site + "/vms/" + HOSTILE_VM.replace("/", "%2F"))
    assert page.locator("h1").inner_text() == HOSTILE_VM
    assert page.locator("main img").count() == 0 and page.locator("main script").count() == 0
    page.wait_for_timeout(300)
    assert page.errors == []  # type: ignore[attr-defined]


def test_open_approve_and_merge_a_pull_request(page: Page, site: str, shots: Path) -> None:
    page.goto(site + "/prs")
    page.click("text=#1")
    page.wait_for_url("**/prs/1")
    assert page.locator("#pr-status").inner_text() == "open"
    page.fill("#reviewer", "architect")
    page.click("#approve")
    expect(page.locator("#pr-status")).to_have_text("approved")  # (wait_for_function would need eval: CSP)
    page.click("#merge")
    expect(page.locator("#pr-status")).to_have_text("merged", timeout=120_000)
    assert "merge_commit" in page.locator("#pr-result").inner_text()
    page.reload()
    assert page.locator("#pr-status").inner_text() == "merged"
    snap(page, shots, "pr")


def test_pin_a_vm_see_the_diff_and_save(page: Page, site: str, shots: Path) -> None:
    page.goto(site + "/whatif")
    page.fill("input[name=vm]", "crm-web-01")
    page.select_option("select[name=wave]", "2")
    page.click("#preview")
    expect(page.locator("#whatif-status")).to_contain_text("Nothing saved yet", timeout=60_000)
    assert page.locator("#moved tr").count() >= 1
    assert "crm-web-01" in page.locator("#moved").inner_text()
    snap(page, shots, "whatif")
    page.click("#save")
    expect(page.locator("#whatif-status")).to_contain_text("Saved: new plan", timeout=60_000)
    assert page.errors == []  # type: ignore[attr-defined]


def test_drift_between_two_snapshots(page: Page, site: str, shots: Path) -> None:
    page.goto(site + "/drift")
    page.select_option("select[name=a]", "1")
    page.select_option("select[name=b]", "2")
    page.click("text=Compare")
    expect(page.locator("#drift-summary")).to_contain_text("1 added, 1 removed")
    assert "num_cpu" in page.locator("main").inner_text()
    snap(page, shots, "drift")
