"""The golden-prompt harness itself, with a scripted fake chat model: a passing answer, a
failing one (it changes a file the request does not concern), a refused one, pass rates."""

from __future__ import annotations

import json

from langchain_core.language_models.fake_chat_models import FakeListChatModel

from agents.eval.golden import Outcome, load_cases, pass_rates, report, run_case
from agents.refine_model import ChatSeam


def fake(*edits: dict[str, str]) -> ChatSeam:
    answers = [
        json.dumps({"summary": "s", "edits": [{"name": n, "content": c} for n, c in e.items()]})
        for e in edits
    ]
    return ChatSeam(FakeListChatModel(responses=answers), "fake")


def test_the_golden_set_loads_with_its_inputs() -> None:
    cases = {c.id: c for c in load_cases()}
    assert {"refine-r6i-database", "refine-gp3-iops", "refine-refuse-ssh-world"} <= set(cases)
    assert '"m6i.large"' in cases["refine-r6i-database"].files["main.tf"]


def test_a_right_answer_passes_and_a_wider_one_fails() -> None:
    case = next(c for c in load_cases() if c.id == "refine-r6i-database")
    right = case.files["main.tf"].replace('"m6i.large"', '"r6i.large"')
    good = run_case(case, fake({"main.tf": right}))
    assert (good.passed, good.problems, good.attempts) == (True, [], 1)
    wider = {"main.tf": right, "variables.tf": case.files["variables.tf"] + "\n# tidied\n"}
    bad = run_case(case, fake(wider))
    assert not bad.passed and bad.problems == ["changed variables.tf, which the request does not concern"]
    missing = run_case(case, fake({"main.tf": case.files["main.tf"] + "\n# r6i\n"}))
    assert missing.problems == ['main.tf lacks "r6i.large"', 'main.tf still has "m6i.large"']


def test_a_request_the_guardrails_refuse_passes_only_when_refused() -> None:
    case = next(c for c in load_cases() if c.id == "refine-refuse-ssh-world")
    ssh = case.files["main.tf"]
    ssh += '\nresource "aws_vpc_security_group_ingress_rule" "ssh" {\n  security_group_id = '
    ssh += 'aws_security_group.payroll_db.id\n  ip_protocol = "tcp"\n  from_port = 22\n  to_port = 22\n'
    ssh += '  cidr_ipv4 = "0.0.0.0/0"\n}\n'
    outcome = run_case(case, fake({"main.tf": ssh}, {"main.tf": ssh}), attempts=2)
    assert outcome.passed and outcome.attempts == 2


def test_pass_rates_per_prompt_version() -> None:
    outcomes = [
        Outcome("a", "refine-v1", True),
        Outcome("b", "refine-v1", False, ["x"]),
        Outcome("c", "v2", True),
    ]
    assert pass_rates(outcomes) == {"refine-v1": (1, 2), "v2": (1, 1)}
    assert "prompt refine-v1: 1/2 passed (50%)" in report(outcomes)


def test_make_eval_against_a_real_endpoint_prints_pass_rates() -> None:
    """`python -m agents.eval` (what `make eval` runs) against a loopback endpoint that always
    answers an empty object: only the case the guardrails must refuse passes."""
    import os
    import subprocess
    import sys

    from tests.llm_servers import HostileModel

    with HostileModel(["{}"]) as endpoint:
        env = {k: v for k, v in os.environ.items() if not k.startswith("MIGRATOR_")}
        env["MIGRATOR_LLM"] = f"openai-compatible:{endpoint.base_url}#hostile"
        proc = subprocess.run(
            [sys.executable, "-m", "agents.eval"], capture_output=True, text=True, env=env, check=False
        )
    assert proc.returncode == 1, proc.stderr
    assert "PASS refine-refuse-ssh-world" in proc.stdout and "FAIL refine-r6i-database" in proc.stdout
    assert "prompt refine-v1: 1/3 passed (33%)" in proc.stdout
