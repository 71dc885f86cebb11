"""Small pure pieces: address parsing, percentiles, header dialects, text hygiene, exit codes."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from pathlib import Path
from xml.etree import ElementTree

import pytest

from migrator.errors import ExitCode, UsageError
from migrator.rvtools.headers import normalise, resolve
from migrator.secrets import Secret
from migrator.text import MAX_TEXT, clean_text
from migrator.vcenter.address import parse_server
from migrator.vcenter.perf import PerfPlan, _series, percentile, rollup

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    ("value", "display"),
    [
        ("vc.example.com", "https://vc.example.com/sdk"),
        ("https://vc.example.com/sdk", "https://vc.example.com/sdk"),
        ("https://vc.example.com:8443", "https://vc.example.com:8443/sdk"),
        ("http://127.0.0.1:8989/sdk/", "http://127.0.0.1:8989/sdk"),
    ],
)
def test_parse_server(value: str, display: str) -> None:
    assert parse_server(value).display == display


@pytest.mark.parametrize("value", ["", "ftp://vc", "https://user:pw@vc", "https://vc:notaport", "https://"])
def test_parse_server_rejects(value: str) -> None:
    with pytest.raises(UsageError):
        parse_server(value)


def test_percentile_interpolates() -> None:
    values = [float(v) for v in range(1, 101)]
    assert percentile(values, 50) == 50.5
    assert percentile(values, 95) == pytest.approx(95.05)
    assert percentile([7.0], 95) == 7.0


def test_rollup_converts_hundredths_and_reports_coverage() -> None:
    now = datetime(2026, 1, 2, tzinfo=UTC)
    plan = PerfPlan({"cpu": 1, "mem": 2}, 300, 1.0, now.replace(day=1), now)
    samples = {1: [1000.0] * 144, 2: [5000.0, 7000.0] * 72}
    result = rollup(samples, plan)
    assert result is not None
    assert (result["cpu_p95_pct"], result["mem_max_pct"], result["samples"]) == (10.0, 70.0, 144)
    assert result["coverage"] == 0.5 and result["expected_samples"] == 288
    assert rollup({}, plan) is None


def test_header_dialects_resolve_alike() -> None:
    assert normalise("Provisioned MiB", "vInfo") == normalise("Provisioned MB", "vInfo") == "provisionedmb"
    assert normalise("vInfoVMName", "vInfo") == "vmname"
    assert normalise("SCSI Unit #", "vDisk") == "scsiunitnum"
    assert resolve(["vDiskVMName", "vDiskCapacityMiB"], "vDisk") == {"vm": 0, "capacity_mb": 1}
    assert resolve(["VM", "Capacity MB"], "vDisk") == {"vm": 0, "capacity_mb": 1}


def test_clean_text_strips_controls_keeps_meaning() -> None:
    hostile = "db\x1b[31m-01\x00\u200b\r\nnext\tline " + "x" * (MAX_TEXT + 10)
    cleaned = clean_text(hostile)
    assert cleaned is not None
    assert cleaned.startswith("db[31m-01\u200b\nnext\tline ")  # ESC, NUL and CR removed
    assert len(cleaned) == MAX_TEXT
    assert clean_text("Cafe\u0301") == "Café"  # NFC
    assert clean_text(None) is None


def test_clean_text_fast_path_drops_exactly_what_the_per_character_rule_drops() -> None:
    """Printable text skips the per-character pass: for every code point in the ranges that
    hold controls, separators, format characters, surrogates and private use, alone and inside
    text, the result equals the rule (NFC, then drop Cc and Cs but newline and tab)."""

    def rule(text: str) -> str:
        text = unicodedata.normalize("NFC", text)
        return "".join(ch for ch in text if ch in "\n\t" or unicodedata.category(ch) not in ("Cc", "Cs"))

    points = [*range(0x0, 0x3100), *range(0xD7F0, 0xE010), *range(0xFDD0, 0x10000), 0x1F600, 0xE0001]
    for text in (chr(p) for p in points):
        assert clean_text(text) == rule(text)
        assert clean_text(f"vm{text}01") == rule(f"vm{text}01")


def test_secret_does_not_reveal_itself() -> None:
    secret = Secret("hunter2")
    assert "hunter2" not in repr(secret) and "hunter2" not in str(secret) and "hunter2" not in f"{secret}"
    assert secret.reveal() == "hunter2"


def test_exit_codes_are_documented() -> None:
    doc = (ROOT / "docs" / "exit-codes.md").read_text(encoding="utf-8")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for code in ExitCode:
        row = re.search(rf"^\| {code.value} \| `{code.name}` \|", doc, re.MULTILINE)
        assert row, f"docs/exit-codes.md lacks {code.name}"
        assert f"| {code.value} |" in readme, f"README lacks exit code {code.value}"


def _returnval(xml_values: str, kind: str) -> ElementTree.Element:
    doc = (
        '<returnval xmlns="urn:vim25" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        f'xsi:type="{kind}"><entity type="VirtualMachine">vm-7</entity>{xml_values}</returnval>'
    )
    return ElementTree.fromstring(doc)


def test_perf_series_in_both_soap_formats() -> None:
    normal = _returnval(
        '<value xsi:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id>'
        "<value>150</value><value>-1</value><value>300</value></value>"
        '<value xsi:type="PerfMetricIntSeries"><id><counterId>24</counterId><instance></instance></id>'
        "<value>5000</value></value>",
        "PerfEntityMetric",
    )
    csv = _returnval(
        '<value xsi:type="PerfMetricSeriesCSV"><id><counterId>2</counterId><instance></instance></id>'
        "<value>150,-1,300</value></value>"
        '<value xsi:type="PerfMetricSeriesCSV"><id><counterId>24</counterId><instance></instance></id>'
        "<value>5000</value></value>",
        "PerfEntityMetricCSV",
    )
    for metric in (normal, csv):
        assert _series(metric) == {2: [150.0, 300.0], 24: [5000.0]}  # -1 means "no sample"
