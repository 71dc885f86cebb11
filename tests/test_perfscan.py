"""The QueryPerf byte scan against the lxml tree and pyVmomi's own deserialiser.

The scan (migrator.vcenter.perfscan) must give the same samples as the tree for every answer it
takes, and decline everything else so the tree reads it. Proof on three levels: real vcsim
answers read three ways (scan, tree, pyVmomi's typed objects from the same bytes); generated
answers in the canonical shape with random counts and values; and one variant per way an
answer can depart from that shape, each of which must be declined.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyVmomi import vim
from pyVmomi.SoapAdapter import SoapResponseDeserializer

from migrator.errors import InterruptedRun
from migrator.secrets import Secret
from migrator.simulator.launcher import Simulator
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import Connection, ConnectionParams, TLSOptions
from migrator.vcenter.perf import (
    RETURNVAL_DEPTH,
    VIM,
    PerfPlan,
    _series,
    ask,
    plan_perf,
    rollups,
    tree_rollups,
)
from migrator.vcenter.perfscan import scan_samples
from migrator.vcenter.rawsoap import Answer, answer_elements
from migrator.vcenter.retrieval import list_morefs

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope '
    b'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
    b'<QueryPerfResponse xmlns="urn:vim25">'
)
TAIL = b"</QueryPerfResponse></soapenv:Body></soapenv:Envelope>"
XSI = 'xmlns:XMLSchema-instance="http://www.w3.org/2001/XMLSchema-instance"'
NOW = datetime(2026, 11, 22, tzinfo=UTC)
PLAN = PerfPlan({"cpu": 2, "mem": 24}, 300, 1.0, NOW - timedelta(days=1), NOW)


def series(counter: int, values: list[Any], prefix: str = "XMLSchema-instance", instance: str = "") -> str:
    samples = "".join(f"<value>{v}</value>" for v in values)
    return (
        f'<value {prefix}:type="PerfMetricIntSeries"><id><counterId>{counter}</counterId>'
        f"<instance>{instance}</instance></id>{samples}</value>"
    )


def returnval(ref: str, content: str, sample_info: int = 2) -> str:
    info = "<sampleInfo><timestamp>2026-11-22T00:00:00Z</timestamp><interval>300</interval></sampleInfo>"
    return (
        f'<returnval {XSI} XMLSchema-instance:type="PerfEntityMetric">'
        f'<entity type="VirtualMachine">{ref}</entity>{info * sample_info}{content}</returnval>'
    )


def answer(*returnvals: str) -> bytes:
    return HEAD + "".join(returnvals).encode() + TAIL


def tree_series(body: bytes) -> dict[str, dict[int, list[float]]]:
    elements = answer_elements(Answer("QueryPerf", [body]), RETURNVAL_DEPTH)
    return {el.findtext(VIM + "entity") or "": _series(el) for el in elements}


def assert_taken_and_equal(body: bytes) -> None:
    scanned = scan_samples(body)
    assert scanned is not None, "the scan declined an answer in the canonical shape"
    assert scanned == tree_series(body)
    assert rollups(Answer("QueryPerf", [body]), PLAN) == tree_rollups(Answer("QueryPerf", [body]), PLAN)


CANONICAL = answer(
    returnval("vm-1", series(2, [150, -1, 300]) + series(24, [5000, 7000])),
    returnval("vm-2", series(2, []) + series(24, [1])),
)


@pytest.mark.parametrize(
    "body",
    [
        CANONICAL,
        answer(returnval("vm-1", series(2, [150, 300], prefix="xsi"))),  # vCenter's own prefix
        answer(returnval("vm-1", series(2, ["007", "0"]))),  # leading zeros read as numbers
        answer(returnval("vm-1", series(2, [-1, -1]) + series(24, [-1]))),  # no samples at all
        answer(returnval("vm-1", series(2, [1])), returnval("vm-1", series(2, [2]))),  # later wins
        answer(returnval("vm-9", series(2, [999_999_999_999_999]))),  # 15 digits
        answer(returnval("vm-3", series(2, [5]), sample_info=0)),
        CANONICAL.replace(b"</entity>", b"</entity>\n  "),  # layout outside the samples is not read
    ],
    ids=[
        "canonical",
        "xsi-prefix",
        "leading-zeros",
        "all-missing",
        "repeated-entity",
        "15-digits",
        "no-info",
        "space-after-entity",
    ],
)
def test_scan_takes_the_canonical_shape_and_agrees_with_the_tree(body: bytes) -> None:
    assert_taken_and_equal(body)


def test_scan_agrees_with_the_tree_on_generated_answers() -> None:
    rng = random.Random(14)
    for _ in range(150):
        vms = [
            returnval(
                f"vm-{rng.randrange(10_000)}",
                "".join(
                    series(
                        counter, [rng.choice([-1, rng.randrange(10_001)]) for _ in range(rng.randrange(40))]
                    )
                    for counter in rng.sample([2, 24, 6, 98], rng.randrange(1, 4))
                ),
                sample_info=rng.randrange(3),
            )
            for _ in range(rng.randrange(1, 12))
        ]
        assert_taken_and_equal(answer(*vms))


def _replace(old: str, new: str) -> Callable[[bytes], bytes]:
    def change(body: bytes) -> bytes:
        assert old.encode() in body, old
        return body.replace(old.encode(), new.encode(), 1)

    return change


DEPARTURES: dict[str, Callable[[bytes], bytes]] = {
    "pretty-printed": _replace(
        "<value>150</value><value>-1</value>", "<value>150</value>\n  <value>-1</value>"
    ),
    "csv-series": lambda _: answer(
        returnval(
            "vm-1",
            '<value xsi:type="PerfMetricSeriesCSV"><id><counterId>2</counterId><instance></instance></id>'
            "<value>150,-1,300,-5</value></value>",
        )
    ),
    "list-in-int-series": _replace("<value>150</value><value>-1</value>", "<value>150,-1</value>"),
    "instance": lambda _: answer(returnval("vm-1", series(2, [1, 2], instance="0"))),
    "prefixed-series": lambda _: answer(
        returnval(
            "vm-1",
            '<vim:value xmlns:vim="urn:vim25" xsi:type="PerfMetricIntSeries"><vim:id>'
            "<vim:counterId>2</vim:counterId><vim:instance></vim:instance></vim:id>"
            "<vim:value>5</vim:value></vim:value>",
        )
    ),
    "entity-reference": _replace(">vm-1<", ">vm&amp;1<"),
    "decimal-sample": _replace("<value>150</value>", "<value>150.0</value>"),
    "plus-sample": _replace("<value>150</value>", "<value>+150</value>"),
    "empty-sample": _replace("<value>150</value>", "<value></value>"),
    "16-digits": _replace("<value>150</value>", "<value>1234567890123456</value>"),
    "comment": _replace("<value>150</value>", "<value>150</value><!-- x -->"),
    "other-namespace": _replace("<returnval ", '<returnval xmlns="urn:other" '),
    "host-entity": _replace('type="VirtualMachine">vm-1', 'type="HostSystem">vm-1'),
    "entity-not-first": lambda body: _replace(
        "</sampleInfo>", '</sampleInfo><entity type="VirtualMachine">vm-1</entity>'
    )(_replace('<entity type="VirtualMachine">vm-1</entity>', "")(body)),
    "nested-returnval": _replace("<sampleInfo>", "<returnval><entity>x</entity></returnval><sampleInfo>"),
    "other-response": _replace("<QueryPerfResponse ", "<QueryPerfResponse a='1' "),
    "soap-header": _replace("<soapenv:Body>", "<soapenv:Header/><soapenv:Body>"),
    "wrapped-response": lambda body: _replace("<soapenv:Body>", "<soapenv:Body><w>")(
        _replace("</soapenv:Body>", "</w></soapenv:Body>")(body)
    ),
    "spaced-default-namespace": _replace("<returnval ", '<returnval xmlns = "urn:other" '),
}


@pytest.mark.parametrize("name", sorted(DEPARTURES))
def test_scan_declines_every_other_shape_and_the_tree_reads_it(name: str) -> None:
    body = DEPARTURES[name](CANONICAL)
    assert scan_samples(body) is None
    try:
        expected = tree_rollups(Answer("QueryPerf", [body]), PLAN)
    except InterruptedRun as exc:  # not XML at all: both ways refuse it alike
        with pytest.raises(InterruptedRun, match="refused"):
            rollups(Answer("QueryPerf", [body]), PLAN)
        assert "refused" in str(exc)
        return
    assert rollups(Answer("QueryPerf", [body]), PLAN) == expected


@pytest.mark.parametrize(
    "body",
    [CANONICAL[: len(CANONICAL) // 2], CANONICAL[: -len(TAIL)], b"not xml", HEAD + TAIL],
    ids=["truncated-mid", "no-tail", "garbage", "no-entities"],
)
def test_truncated_or_empty_answers_are_left_to_the_tree(body: bytes) -> None:
    assert scan_samples(body) is None
    if body == HEAD + TAIL:
        assert rollups(Answer("QueryPerf", [body]), PLAN) == {}
        return
    with pytest.raises(InterruptedRun, match="refused"):
        rollups(Answer("QueryPerf", [body]), PLAN)


@pytest.mark.vcsim
def test_real_vcsim_answers_read_alike_by_scan_tree_and_pyvmomi(demo_sim: Simulator) -> None:
    params = ConnectionParams(
        parse_server(demo_sim.url), demo_sim.username, Secret(demo_sim.password), TLSOptions()
    )
    conn = Connection.open(params)
    try:
        plan = plan_perf(conn.content, 1.0)
        assert plan is not None
        manager = conn.content.perfManager
        refs = list_morefs(conn.content, vim.VirtualMachine)
        body = b"".join(ask(manager, refs, plan).chunks)
        method = vim.PerformanceManager._GetMethodInfo("QueryStats")
        typed = SoapResponseDeserializer(manager._stub).Deserialize(body, method.result)
    finally:
        conn.close()
    scanned = scan_samples(body)
    assert scanned is not None, "vcsim's per-sample answer should take the scan"
    by_pyvmomi = {
        metric.entity._moId: {
            series.id.counterId: [v for v in series.value if v >= 0] for series in metric.value
        }
        for metric in typed
    }
    assert sum(len(v) for s in scanned.values() for v in s.values()) > 100  # real samples compared
    assert scanned == by_pyvmomi == tree_series(body)
    assert rollups(Answer("QueryPerf", [body]), plan) == tree_rollups(Answer("QueryPerf", [body]), plan)
