# ruff: noqa: F811  (pytest fixtures imported from tests.test_prs are parameters here)
"""Forge listings across pages and rate limits waited out, against the local forge server
(tests/forge_server.py): the exact page requests of GitHub, GitLab and Gitea, a status comment
found on the last page (edited, not duplicated), the page bound, a next page on another host,
each forge's rate-limit headers with an injected clock and sleep (exact waits and progress
lines), the total bound, a permissions 403 that is not retried, and the CLI's real waits."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

import pytest

from migrator.errors import ForgeError
from migrator.review.forge import STATUS_MARKER, Forge, ForgeSettings, forge_for, publish
from migrator.review.forge_http import Pacing, link_next, page_header_next
from tests.forge_server import ForgeServer, _new_comment
from tests.helpers import assert_one_line_error, migrator
from tests.test_forges import ENV, TOKEN, land_on, remote
from tests.test_prs import KUBEVIRT_FLAGS, generated, git, ws  # noqa: F401 (fixtures)

START = 1_800_000_000.0  # the injected clock's epoch seconds


class FakeTime:
    """The clock and sleep a forge client waits with: sleeping moves the clock, nothing waits."""

    def __init__(self) -> None:
        self.now = START
        self.slept: list[float] = []
        self.lines: list[str] = []

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def pacing(self, max_wait_s: float = 60) -> Pacing:
        return Pacing(self.lines.append, self.sleep, lambda: self.now, max_wait_s)


def client(server: ForgeServer, fake: FakeTime | None = None, max_wait_s: float = 60) -> Forge:
    settings = ForgeSettings(server.state.kind, server.url, "acme/plans", TOKEN)
    return forge_for(settings, fake.pacing(max_wait_s) if fake else None)


COMMENTS = {
    "github": "/repos/acme/plans/issues/1/comments",
    "gitea": "/api/v1/repos/acme/plans/issues/1/comments",
    "gitlab": "/api/v4/projects/acme%2Fplans/merge_requests/1/notes",
}


@pytest.mark.parametrize("kind", ["github", "gitlab", "gitea"])
def test_a_status_comment_on_the_third_page_is_edited_not_duplicated(kind: str) -> None:
    with ForgeServer(kind, TOKEN) as server:
        server.state.page_size = 2
        forge = client(server)
        publish(forge, "b", "main", "t", "# plan\n", ["l"], "first status")
        status_id = next(iter(server.state.comments))
        for i in range(4):
            _new_comment(server.state, 1, f"reviewer note {i}")
        server.state.comments[status_id] = server.state.comments.pop(status_id)  # now on page 3
        server.state.requests.clear()
        publish(forge, "b", "main", "t", "# plan\n", ["l"], "second status")
        listed = [r for r in server.state.requests if r.method == "GET" and r.path == COMMENTS[kind]]
        assert [r.query.get("page") for r in listed] == [None, "2", "3"]
        assert [c["body"] for c in server.state.comments.values()] == [
            *(f"reviewer note {i}" for i in range(4)),
            f"{STATUS_MARKER}\nsecond status",
        ]


def test_gitea_finds_its_open_pull_request_on_the_second_page() -> None:
    with ForgeServer("gitea", TOKEN) as server:
        server.state.page_size = 2
        for n in (1, 2, 3):
            server.state.prs[n] = {
                "number": n,
                "state": "open",
                "head": {"ref": f"other-{n}"},
                "html_url": "x",
            }
        forge = client(server)
        made = publish(forge, "b", "main", "t", "# plan\n", ["l"], "status")
        assert made.number == 4
        server.state.requests.clear()
        again = publish(forge, "b", "main", "t", "# plan v2\n", ["l"], "status")
        assert again.number == 4 and len(server.state.prs) == 4
        pulls = [r for r in server.state.requests if r.path == "/api/v1/repos/acme/plans/pulls"]
        assert [(r.method, r.query) for r in pulls] == [
            ("GET", {"state": "open", "limit": "50"}),
            ("GET", {"state": "open", "limit": "50", "page": "2"}),
        ]
        assert server.state.prs[4]["body"] == "# plan v2\n"


def test_more_pages_than_the_bound_is_an_error_not_a_short_list() -> None:
    with ForgeServer("github", TOKEN) as server:
        server.state.page_size = 1
        forge = client(server)
        publish(forge, "b", "main", "t", "# plan\n", ["l"], "status")
        for i in range(4):
            _new_comment(server.state, 1, f"note {i}")
        forge.http.max_pages = 3
        server.state.requests.clear()
        with pytest.raises(ForgeError) as caught:
            forge.comments(1)
        assert caught.value.message == (
            "github: GET /repos/acme/plans/issues/1/comments: more than 3 pages of results; not all were read"
        )
        assert [r.query.get("page") for r in server.state.requests] == [None, "2", "3"]


def test_a_next_page_on_another_host_is_not_followed() -> None:
    with ForgeServer("github", TOKEN) as server:
        server.state.page_size = 1
        forge = client(server)
        publish(forge, "b", "main", "t", "# plan\n", ["l"], "status")
        _new_comment(server.state, 1, "note")
        server.state.link_base = "http://127.0.0.2:9"
        server.state.requests.clear()
        with pytest.raises(ForgeError) as caught:
            forge.comments(1)
        assert caught.value.message == (
            "github: GET /repos/acme/plans/issues/1/comments: the next page is outside the API "
            "(http://127.0.0.2:9): not followed"
        )
        assert len(server.state.requests) == 1


def test_next_page_headers_are_read_as_documented() -> None:
    link = (
        '<https://api.github.com/repositories/1300192/issues?page=2>; rel="prev", '
        '<https://api.github.com/repositories/1300192/issues?page=4>; rel="next", '
        '<https://api.github.com/repositories/1300192/issues?page=515>; rel="last"'
    )
    here = "https://api.github.com/repositories/1300192/issues?page=3"
    assert link_next({"link": link}, here) == "https://api.github.com/repositories/1300192/issues?page=4"
    assert link_next({"link": link.replace('rel="next"', 'rel="first"')}, here) is None
    assert link_next({}, here) is None
    gitlab = "https://gitlab.example/api/v4/projects/a%2Fb/merge_requests?per_page=100&page=1"
    assert page_header_next({"x-next-page": "2"}, gitlab) == (
        "https://gitlab.example/api/v4/projects/a%2Fb/merge_requests?per_page=100&page=2"
    )
    assert page_header_next({"x-next-page": ""}, gitlab) is None


RATE_LIMITS = {
    # each forge's documented headers: first answer(s) rate limits, then the real answer
    "github": (
        [
            (
                403,
                {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(START) + 7)},
                {"message": "API rate limit exceeded for user ID 1."},
            ),
            (429, {"Retry-After": "3"}, {"message": "You have exceeded a secondary rate limit."}),
        ],
        [7, 3],
        ["GitHub said X-RateLimit-Reset", "GitHub said Retry-After"],
    ),
    "gitlab": (
        [
            (
                429,
                {"RateLimit-Remaining": "0", "RateLimit-Reset": str(int(START) + 5)},
                {"message": "Retry later"},
            ),
            # an HTTP date 4 s after the clock then (the first wait moved it by 5 s)
            (429, {"Retry-After": formatdate(START + 9, usegmt=True)}, {"message": "Retry later"}),
        ],
        [5, 4],
        ["GitLab said RateLimit-Reset", "GitLab said Retry-After"],
    ),
    "gitea": (
        [
            (429, {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(START) + 2)}, None),
            (429, {}, {"message": "rate limit exceeded"}),
        ],
        [2, 60],
        ["Gitea said X-RateLimit-Reset", "Gitea said 429 without Retry-After"],
    ),
}


@pytest.mark.parametrize("kind", ["github", "gitlab", "gitea"])
def test_rate_limits_are_waited_out_as_each_forge_says_then_retried(kind: str) -> None:
    queued, waits, said = RATE_LIMITS[kind]
    fake = FakeTime()
    with ForgeServer(kind, TOKEN) as server:
        server.state.queued = list(queued)
        forge = client(server, fake, max_wait_s=120)
        assert forge.find_open("b", "main") is None
        assert fake.slept == waits
        assert fake.lines == [
            f"forge rate limit: waiting {w} s ({s})" for w, s in zip(waits, said, strict=True)
        ]
        assert len(server.state.requests) == 3
        assert len({(r.method, r.path, tuple(r.query.items())) for r in server.state.requests}) == 1


def test_waits_past_the_bound_end_in_one_clear_error() -> None:
    fake = FakeTime()
    with ForgeServer("github", TOKEN) as server:
        server.state.queued = [(429, {"Retry-After": "40"}, None), (429, {"Retry-After": "40"}, None)]
        forge = client(server, fake, max_wait_s=60)
        with pytest.raises(ForgeError) as caught:
            forge.find_open("b", "main")
        assert caught.value.message == (
            "github: GET /repos/acme/plans/pulls: rate limited; GitHub asks to wait 40 s (Retry-After), "
            "more than the 60 s migrator waits in all (set MIGRATOR_FORGE_MAX_WAIT to wait longer)"
        )
        assert fake.slept == [40] and len(server.state.requests) == 2


def test_a_403_for_permissions_is_not_retried_and_tokens_never_reach_a_message() -> None:
    fake = FakeTime()
    with ForgeServer("github", TOKEN) as server:
        server.state.fail_with = 403
        server.state.fail_message = "Resource not accessible by personal access token"
        with pytest.raises(ForgeError) as caught:
            client(server, fake).set_status("a" * 40, True, "ok")
        assert caught.value.message == (
            f"github: POST /repos/acme/plans/statuses/{'a' * 40} answered 403: "
            "Resource not accessible by personal access token"
        )
        assert fake.slept == [] and len(server.state.requests) == 1
        server.state.fail_with, server.state.fail_message = 401, f"token {TOKEN} is not valid here"
        with pytest.raises(ForgeError) as echoed:
            client(server, fake).find_open("b", "main")
        assert (
            echoed.value.message
            == "github: GET /repos/acme/plans/pulls answered 401: token *** is not valid here"
        )


def test_the_cli_waits_with_a_progress_line_then_lands(ws: Path, tmp_path: Path) -> None:
    with ForgeServer("github", TOKEN) as server:
        server.state.queued = [(429, {"Retry-After": "1"}, {"message": "secondary rate limit"})]
        started = time.monotonic()
        result = migrator(
            "pr",
            "land",
            "--target",
            "kubevirt",
            "--wave",
            "1",
            "--repo",
            remote(tmp_path),
            "--forge-api",
            server.url,
            "--forge",
            "github",
            "--forge-repo",
            "acme/plans",
            "--token-env",
            "PLANS_TOKEN",
            workspace=ws,
            env=ENV,
        )
        assert result.code == 0, result.stderr
        assert result.stderr == "forge rate limit: waiting 1 s (GitHub said Retry-After)\n"
        assert time.monotonic() - started >= 1
        assert server.state.calls()[:2] == [("GET", "/repos/acme/plans/pulls")] * 2
        assert len(server.state.prs) == 1 and TOKEN not in result.stdout + result.stderr


def test_the_cli_gives_up_at_once_past_its_bound_and_checks_the_setting(ws: Path, tmp_path: Path) -> None:
    url = remote(tmp_path)
    with ForgeServer("gitlab", TOKEN) as server:
        server.state.queued = [(429, {"Retry-After": "120"}, {"message": "Retry later"})]
        args = ("pr", "land", "--target", "kubevirt", "--wave", "1", "--repo", url, "--forge", "gitlab")
        forge_args = ("--forge-api", server.url, "--forge-repo", "acme/plans", "--token-env", "PLANS_TOKEN")
        result = migrator(*args, *forge_args, workspace=ws, env={**ENV, "MIGRATOR_FORGE_MAX_WAIT": "5"})
        assert_one_line_error(
            result,
            9,
            "landed locally as PR #1, but gitlab: GET /projects/acme%2Fplans/merge_requests: "
            "rate limited; GitLab asks to wait 120 s (Retry-After), more than the 5 s migrator waits in all",
        )
        assert len(server.state.requests) == 1
        bad = migrator(*args, *forge_args, workspace=ws, env={**ENV, "MIGRATOR_FORGE_MAX_WAIT": "soon"})
        assert_one_line_error(bad, 2, "MIGRATOR_FORGE_MAX_WAIT='soon': give a number of seconds")
        landed = land_on(ws, server, url, "gitlab")  # the forge catches up, no wait needed now
        assert landed["action"] == "unchanged" and len(server.state.prs) == 1
