"""Team mode in Debian's headless Chromium: sign in with a person's token at /login, then the PR
page approves as that person (the page has no name field; the approval names the token's holder)."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from migrator.app.identities import add_identity, cli_actor
from tests.test_web_browser import Server, launch
from tests.web_helpers import planned_workspace


def test_sign_in_with_a_persons_token_and_approve_as_that_person(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    folder: Path = tmp_path_factory.mktemp("browser-team") / "ws"
    ws = planned_workspace(folder)
    token = add_identity(ws, "ana", "approver", cli_actor("lead")).token
    with Server(ws) as server, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/prs/1")
        page.wait_for_url("**/login")  # no token yet: the page sends the browser to sign in
        page.fill("input[name=token]", token)
        page.click("button[type=submit]")
        page.wait_for_url(server.url + "/", wait_until="commit")  # signed in: sent to the overview
        page.goto(server.url + "/prs/1")
        expect(page.locator(".signed-in")).to_have_text("signed in as ana (approver)")
        assert page.locator("#reviewer").count() == 0
        page.click("#approve")
        expect(page.locator("#pr-status")).to_have_text("approved")
        page.reload()
        approvals = page.locator("main > ul").first.locator("li").all_inner_texts()
        assert [a.split(" at ")[0] for a in approvals] == ["approved by ana"]
        browser.close()
        assert errors == []
    assert [(r["who"], r["via"], r["action"]) for r in ws.audit.list()][-1] == ("ana", "web", "pr.approve")
    ws.close()
