"""The sample times periodic discovery keeps (migrator.vcenter.perfhistory), from both shapes
vSphere answers QueryPerf in. vcsim sends one element per sample (tests/test_history.py reads
it end to end); real vCenters send CSV strings, built here in vSphere's serialisation."""

from __future__ import annotations

from migrator.vcenter.perfhistory import epoch, timed_samples

HEAD = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<soapenv:Envelope '
    b'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
    b'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body>'
    b'<QueryPerfResponse xmlns="urn:vim25">'
)
TAIL = b"</QueryPerfResponse></soapenv:Body></soapenv:Envelope>"
T0 = epoch("2026-11-22T00:00:00Z")


def test_csv_answer_gives_each_sample_its_floored_time_and_skips_gaps() -> None:
    body = (
        HEAD
        + (
            b'<returnval xsi:type="PerfEntityMetricCSV"><entity type="VirtualMachine">vm-7</entity>'
            b"<sampleInfoCSV>300,2026-11-22T00:00:20Z,300,2026-11-22T00:05:20.5Z,300,2026-11-22T00:10:20Z"
            b"</sampleInfoCSV>"
            b'<value xsi:type="PerfMetricSeriesCSV"><id><counterId>2</counterId><instance></instance></id>'
            b"<value>1250,-1,3000</value></value>"
            b'<value xsi:type="PerfMetricSeriesCSV"><id><counterId>24</counterId><instance></instance></id>'
            b"<value>5000,-1,-1</value></value>"
            b'<value xsi:type="PerfMetricSeriesCSV"><id><counterId>9</counterId><instance></instance></id>'
            b"<value>1,2,3</value></value></returnval>"
        )
        + TAIL
    )
    assert T0 is not None
    rows = timed_samples(body, "QueryPerf", {"cpu": 2, "mem": 24})
    # the middle sample has neither counter: left out; other counters (9) are not kept
    assert rows == {"vm-7": [[T0, 300, 12.5, 50.0], [T0 + 600, 300, 30.0, None]]}


def test_per_sample_answer_and_time_zones() -> None:
    body = (
        HEAD
        + (
            b'<returnval xsi:type="PerfEntityMetric"><entity type="VirtualMachine">vm-8</entity>'
            b"<sampleInfo><timestamp>2026-11-22T01:29:59.999999999+01:00</timestamp><interval>1800"
            b"</interval></sampleInfo>"
            b'<value xsi:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id>'
            b"<value>700</value></value></returnval>"
        )
        + TAIL
    )
    assert T0 is not None
    assert timed_samples(body, "QueryPerf", {"cpu": 2, "mem": 24}) == {"vm-8": [[T0, 1800, 7.0, None]]}
    assert epoch("not a time") is None
