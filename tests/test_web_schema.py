"""schemathesis against the dashboard's own OpenAPI description: no request makes it answer 500.

Each operation gets a bounded number of generated cases (hypothesis), so the run stays short.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from migrator.web.app import create_app
from migrator.web.security import Guard
from tests.web_helpers import planned_workspace

EXAMPLES = 8


def as_local(app: Any) -> Any:
    """The app as a browser on this machine calls it (`Host: 127.0.0.1`): the dashboard answers
    only its own host names, and schemathesis's ASGI client says `testserver`."""

    async def local(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            headers = [(k, v) for k, v in scope["headers"] if k != b"host"]
            scope = {**scope, "headers": [*headers, (b"host", b"127.0.0.1")]}
        await app(scope, receive, send)

    return local


def test_no_server_errors_on_any_operation(tmp_path: Path) -> None:
    guard = Guard()
    app = as_local(create_app(planned_workspace(tmp_path / "ws"), guard))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 8
    seen: dict[str, int] = {}

    for operation in operations:

        @given(case=operation.as_strategy(), with_csrf=st.booleans())
        @settings(
            max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
        )
        def check(case: schemathesis.Case, with_csrf: bool) -> None:
            if with_csrf:  # reach the handlers behind the CSRF check too
                case.headers = {**(case.headers or {}), "X-CSRF-Token": guard.csrf}
            response = case.call()
            label = f"{case.method} {case.path}"
            seen[label] = seen.get(label, 0) + 1
            assert response.status_code < 500, f"{label}: {response.status_code} {response.text[:300]}"
            assert response.status_code != 421, "the requests must reach the handlers"
            case.validate_response(response, checks=[schemathesis.checks.not_a_server_error])

        check()
    assert len(seen) == len(operations)
