"""Timestamped utilisation samples of a QueryPerf answer, for the utilisation history that
periodic discovery keeps (docs/scale.md#utilisation-history).

The rollup (migrator.vcenter.perf) needs only the values; the history needs each sample's time
as well, so an answer is read a second time, as a tree, only when discovery keeps history. Both
vSphere shapes are read: one <sampleInfo> and one <value> per sample (PerfEntityMetric, what
vcsim answers) and the CSV strings real vCenters send (PerfEntityMetricCSV). A sample's time is
floored to its interval (vCenter's own are on the boundary already), so two runs that read the
same sample store it once.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from migrator.vcenter.rawsoap import RETURNVAL_DEPTH, VIM, Answer, answer_elements

# A sample row: [epoch seconds (floored to the interval), interval s, cpu %, mem %] (None: no sample)
Row = list[Any]
_STAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?")


def epoch(stamp: str) -> int | None:
    """xsd:dateTime -> whole seconds since 1970 (fractions dropped; no zone means UTC)."""
    found = _STAMP.fullmatch(stamp.strip())
    if found is None:
        return None
    zone = found.group(2) or "Z"
    moment = datetime.fromisoformat(found.group(1) + ("+00:00" if zone == "Z" else zone))
    return int(moment.astimezone(UTC).timestamp())


def _times(metric: Any) -> list[tuple[int | None, int]]:
    """(epoch, interval) per sample, from <sampleInfo> elements or the <sampleInfoCSV> string."""
    csv = metric.findtext(VIM + "sampleInfoCSV")
    if csv is not None:
        parts = [p for p in csv.split(",") if p]
        return [(epoch(s), int(i)) for i, s in zip(parts[0::2], parts[1::2], strict=False)]
    return [
        (epoch(info.findtext(VIM + "timestamp") or ""), int(info.findtext(VIM + "interval") or 0))
        for info in metric.findall(VIM + "sampleInfo")
    ]


def _values(series: Any) -> list[float | None]:
    """A series' samples in order, -1 (no sample) kept as None so they line up with the times."""
    children = series.findall(VIM + "value")
    if len(children) == 1 and "," in (children[0].text or ""):
        texts = (children[0].text or "").split(",")
    else:
        texts = [el.text or "-1" for el in children]
    out: list[float | None] = []
    for text in texts:
        try:
            value = float(text)
        except ValueError:
            value = -1.0  # the rollup already refused a garbled answer; here it is no sample
        out.append(round(value / 100, 2) if value >= 0 else None)
    return out


def timed_samples(body: bytes, method: str, counters: dict[str, int]) -> dict[str, list[Row]]:
    """moref -> its samples with times, for the counters `counters` names ("cpu", "mem")."""
    names = {counter: short for short, counter in counters.items()}
    out: dict[str, list[Row]] = {}
    for metric in answer_elements(Answer(method, [body]), RETURNVAL_DEPTH):
        times = _times(metric)
        by_name: dict[str, list[float | None]] = {}
        for series in metric.findall(VIM + "value"):
            counter = int(series.findtext(f"{VIM}id/{VIM}counterId") or -1)
            if counter in names:
                by_name[names[counter]] = _values(series)
        cpu, mem = by_name.get("cpu", []), by_name.get("mem", [])
        rows = []
        for index, (at, interval) in enumerate(times):
            c = cpu[index] if index < len(cpu) else None
            m = mem[index] if index < len(mem) else None
            if at is None or interval <= 0 or (c is None and m is None):
                continue
            rows.append([at - at % interval, interval, c, m])
        out[metric.findtext(VIM + "entity") or ""] = rows
    return out
