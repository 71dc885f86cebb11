"""Every link of the dashboard answers: a crawler over a real uvicorn server on 127.0.0.1.

It starts at `/` and follows, on the same origin, every `href` and `src` of every HTML page, the
node URLs of the graph JSON the pages' graph.js draws (and opens on a click), the GET forms
(the VM page's pin form, the drift form) with each of their choices, and the API call
whatif.js makes when a pin form's preview arrives. Any 4xx or 5xx fails the test with the
broken links and the page each came from. The workspace is the demo estate with its flows
(three external endpoints), an IPv6 and a hostile named external endpoint, a plan, a PR and
a second snapshot.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, quote, urldefrag, urlencode, urljoin, urlsplit

import httpx
import pytest

from migrator.app.workspace import Workspace
from tests.test_web_browser import Server
from tests.web_helpers import EXT_IPV6, EXT_NAME, planned_workspace

MAX_REQUESTS = 1500  # a bound, far above what the demo workspace needs (about 300)
FORM_CHOICES = 40  # GET form submissions per form at most


class QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # the request log: not wanted here
        pass


@dataclass
class Form:
    action: str | None
    method: str
    fields: list[tuple[str, list[str]]] = field(default_factory=list)  # name -> its choices, default first


class Links(HTMLParser):
    """The URLs an HTML page leads to: href/src attributes, GET forms, the graph container."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []
        self.forms: list[Form] = []
        self.graph_waves: list[str] = []  # data-wave of each graph container ("" = the full graph)
        self._select: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        for name in ("href", "src"):
            if name in a:
                self.urls.append(a[name])
        if tag == "div" and a.get("id") == "graph":
            self.graph_waves.append(a.get("data-wave", ""))
        elif tag == "form":
            self.forms.append(Form(a.get("action"), a.get("method", "get").lower()))
        elif tag == "input" and self.forms and a.get("name") and a.get("type") != "submit":
            self.forms[-1].fields.append((a["name"], [a.get("value", "")]))
        elif tag == "select" and self.forms and a.get("name"):
            self._select = (a["name"], [])
            self.forms[-1].fields.append(self._select)
        elif tag == "option" and self._select is not None:
            choices = self._select[1]
            value = a.get("value", "")
            choices.insert(0, value) if "selected" in a else choices.append(value)

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None


def submissions(form: Form) -> list[list[tuple[str, str]]]:
    """The form as submitted with its defaults, then with each other choice of each field."""
    default = [(name, choices[0] if choices else "") for name, choices in form.fields]
    out = [default]
    for i, (_name, choices) in enumerate(form.fields):
        for choice in choices[1:]:
            out.append([*default[:i], (default[i][0], choice), *default[i + 1 :]])
    return out[:FORM_CHOICES]


@dataclass
class Crawl:
    base: str
    client: httpx.Client
    seen: dict[str, int] = field(default_factory=dict)  # URL -> status
    came_from: dict[str, str] = field(default_factory=dict)
    off_origin: list[tuple[str, str]] = field(default_factory=list)
    queue: list[str] = field(default_factory=list)

    def add(self, url: str, page: str) -> None:
        absolute = urldefrag(urljoin(page, url)).url
        if urlsplit(absolute).netloc != urlsplit(self.base).netloc or not absolute.startswith("http"):
            self.off_origin.append((url, page))
            return
        if absolute not in self.came_from:
            self.came_from[absolute] = page
            self.queue.append(absolute)

    def run(self, start: str = "/") -> None:
        self.add(start, self.base + start)
        while self.queue:
            assert len(self.seen) < MAX_REQUESTS, f"more than {MAX_REQUESTS} URLs: a link loop?"
            url = self.queue.pop(0)
            response = self.client.get(url)
            self.seen[url] = response.status_code
            if response.is_redirect:
                self.add(response.headers["location"], url)
            if response.status_code >= 300:
                continue
            kind = response.headers.get("content-type", "")
            if kind.startswith("text/html"):
                self.page(url, response.text)
            elif urlsplit(url).path == "/api/graph":
                for node in response.json()["nodes"]:
                    if node.get("url"):
                        self.add(node["url"], url)  # graph.js opens it on a click

    def page(self, url: str, html: str) -> None:
        links = Links()
        links.feed(html)
        for href in links.urls:
            if not href.startswith(("javascript:", "data:")):
                self.add(href, url)
            else:
                self.off_origin.append((href, url))
        for wave in links.graph_waves:  # graph.js: /api/graph?wave=... (the graph page: its own query)
            query = [("wave", wave)] if wave else parse_qsl(urlsplit(url).query)
            self.add("/api/graph" + (f"?{urlencode(query)}" if query else ""), url)
        for form in links.forms:
            if form.method == "get" and form.action:
                for values in submissions(form):
                    self.add(f"{form.action}?{urlencode(values)}", url)
        if urlsplit(url).path == "/whatif" and urlsplit(url).query:  # whatif.js previews at once
            asked = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
            query = {"vm": asked.get("vm", ""), **({"wave": asked["wave"]} if asked.get("wave") else {})}
            self.add(f"/api/whatif?{urlencode(query)}", url)

    def broken(self) -> list[str]:
        return [
            f"{status} {url} (linked from {self.came_from[url]})"
            for url, status in self.seen.items()
            if status >= 400
        ]


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    workspace = planned_workspace(tmp_path_factory.mktemp("crawl") / "ws", hostile_endpoints=True)
    yield workspace
    workspace.close()


@pytest.fixture(scope="module")
def crawl(ws: Workspace) -> Crawl:
    with Server(ws) as server, httpx.Client(base_url=server.url, timeout=120) as client:
        result = Crawl(server.url, client)
        result.run()
    return result


def paths(crawl: Crawl, prefix: str) -> set[str]:
    return {urlsplit(u).path for u in crawl.seen if urlsplit(u).path.startswith(prefix)}


def test_every_link_of_every_page_answers(crawl: Crawl) -> None:
    broken = crawl.broken()
    assert broken == [], f"{len(broken)} broken link(s):\n" + "\n".join(broken)
    assert crawl.off_origin == []


def test_the_crawl_reached_every_vm_wave_endpoint_and_form_preview(crawl: Crawl, ws: Workspace) -> None:
    plan = ws.plans.get(None)
    latest = {vm["name"] for vm in ws.store.records(ws.store.get(None).id or 0, "vms")}
    vms = {*plan["vms"], "crm-db-02"}  # crm-db-02: new in snapshot 2, linked from the drift page
    assert paths(crawl, "/vms/") == {"/vms/" + quote(vm, safe="") for vm in vms}
    assert paths(crawl, "/waves/") == {f"/waves/{w['number']}" for w in plan["waves"]}
    externals = {"192.0.2.10", "198.51.100.7", "203.0.113.50", EXT_IPV6, EXT_NAME}
    assert paths(crawl, "/endpoints/") == {"/endpoints/" + quote(e, safe="") for e in externals}
    previews = {
        (q["vm"], q["wave"])
        for u in crawl.seen
        if urlsplit(u).path == "/api/whatif"
        for q in [dict(parse_qsl(urlsplit(u).query))]
    }
    # every VM's pin form but nfs-01's (gone from the latest snapshot: it cannot be pinned)
    assert "nfs-01" in plan["vms"] and "nfs-01" not in latest
    assert previews == {(vm, str(w["number"])) for vm in vms & latest for w in plan["waves"]}
    drift = {urlsplit(u).query for u in crawl.seen if urlsplit(u).path == "/drift"}
    assert drift == {"", "a=1&b=1", "a=1&b=2", "a=2&b=1", "a=2&b=2"}  # each page's form, each choice
    assert all(status < 400 for url, status in crawl.seen.items() if urlsplit(url).path == "/api/graph")


def test_the_crawler_reports_each_broken_link_with_its_page(tmp_path: Path) -> None:
    """The crawler itself, on a plain http.server: a dead href, a dead graph node URL and a dead
    form preview are each reported once with the page that led there; a javascript: link too."""
    site = tmp_path / "site"
    (site / "api").mkdir(parents=True)
    (site / "index.html").write_text(
        '<a href="/ok.html#x">ok</a> <a href="/missing.html">dead</a> <a href="javascript:x()">js</a>'
        '<div id="graph" data-wave=""></div>'
        '<form action="/gone" method="get"><input type="hidden" name="q" value="1"></form>'
    )
    (site / "ok.html").write_text('<a href="index.html">back</a> <img src="/ok.html">')
    (site / "api" / "graph").write_text(
        '{"nodes": [{"url": "/ok.html"}, {"url": "/nowhere"}, {"url": null}]}'
    )
    handler = functools.partial(QuietHandler, directory=str(site))
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        base = f"http://127.0.0.1:{server.server_address[1]}"
        with httpx.Client(base_url=base, timeout=30) as client:
            probe = Crawl(base, client)
            probe.run("/index.html")
        server.shutdown()
    assert sorted(probe.broken()) == [
        f"404 {base}/gone?q=1 (linked from {base}/index.html)",
        f"404 {base}/missing.html (linked from {base}/index.html)",
        f"404 {base}/nowhere (linked from {base}/api/graph)",
    ]
    assert probe.off_origin == [("javascript:x()", f"{base}/index.html")]
    assert set(probe.seen) == {
        f"{base}/{path}"
        for path in ("index.html", "ok.html", "missing.html", "api/graph", "gone?q=1", "nowhere")
    }


def test_submissions_try_every_choice_of_a_get_form() -> None:
    links = Links()
    links.feed(
        '<form action="/whatif" method="get"><input type="hidden" name="vm" value="a b">'
        '<select name="wave"><option value="1">1</option><option value="2" selected>2</option>'
        '<option value="3">3</option></select><button type="submit">go</button></form>'
    )
    assert [urlencode(s) for s in submissions(links.forms[0])] == [
        "vm=a+b&wave=2",
        "vm=a+b&wave=1",
        "vm=a+b&wave=3",
    ]
    assert links.urls == []  # a form's action is no link: it is submitted as above
