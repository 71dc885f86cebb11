"""Read a per-sample QueryPerf answer with a few byte scans instead of an XML tree.

A server that ignores `format="csv"` (vcsim does) answers with one <value> element per sample
and a <sampleInfo> per timestamp: about 100,000 elements and 5 MB per 100 VMs for a week.
Building that tree was the largest client cost of discovery with utilisation. This scan takes
only the exact shape vSphere serialises:

    <returnval ...><entity type="VirtualMachine">vm-7</entity><sampleInfo>...</sampleInfo>...
    <value P:type="PerfMetricIntSeries"><id><counterId>2</counterId><instance></instance></id>
    <value>150</value><value>-1</value>...</value>...</returnval>

and checks every byte of what it keeps. On any departure (whitespace, other series types or
instances, CSV, entity references, odd morefs, another envelope or namespace, a truncated
body) it returns None and the caller
parses the tree, so the records are the same either way (tests/test_perfscan.py). It runs on a
body already read within the size bound and refused if it declares a DTD or entities
(migrator.vcenter.rawsoap). <sampleInfo> is not read: the rollup needs only the samples.
"""

from __future__ import annotations

import re

_NAME = rb"(?:[A-Za-z_][A-Za-z0-9_.-]*:)?"  # an optional prefix
# Envelope / Body / QueryPerfResponse in urn:vim25: the returnvals are at depth 4, as the tree
# path reads them; a SOAP header, a wrapper or another namespace takes the tree instead.
HEAD = re.compile(
    rb"(?:<\?xml[^<>]*\?>\s*)?<"
    + _NAME
    + rb"Envelope[^<>]*><"
    + _NAME
    + rb'Body><QueryPerfResponse xmlns="urn:vim25">'
)
TAIL = re.compile(rb"</QueryPerfResponse></" + _NAME + rb"Body></" + _NAME + rb"Envelope>\s*")
RETURNVAL_OPEN, RETURNVAL_CLOSE = b"<returnval", b"</returnval>"
DEFAULT_NAMESPACE = re.compile(rb"\sxmlns\s*=")
ENTITY = re.compile(rb'<entity type="VirtualMachine">([A-Za-z0-9_.:-]{1,80})</entity>')
SERIES = re.compile(
    rb'<value [A-Za-z_][A-Za-z0-9_.-]*:type="PerfMetricIntSeries">'
    rb"<id><counterId>(\d{1,9})</counterId><instance></instance></id>"
)
SAMPLE_OPEN, SAMPLE_CLOSE, SAMPLE_GAP = b"<value>", b"</value>", b"</value><value>"
# At most 15 digits: every such integer is exact as a float, as the tree path reads samples.
SAMPLES = re.compile(rb"-?\d{1,15}(?:,-?\d{1,15})*")

Series = dict[int, list[int]]  # counter id -> samples, "no sample" (-1) left out


def scan_samples(body: bytes) -> dict[str, Series] | None:
    """moref -> its series, or None when the answer is not in the shape above."""
    parts = body.split(RETURNVAL_CLOSE)
    head, opened, first = parts[0].partition(RETURNVAL_OPEN)
    if len(parts) < 2 or HEAD.fullmatch(head) is None or TAIL.fullmatch(parts[-1]) is None:
        return None  # no entity at all, another envelope, or a truncated answer: the tree says
    parts[0] = opened + first
    out: dict[str, Series] = {}
    for part in parts[:-1]:
        entity = _entity(part)
        series = _series(part) if entity is not None else None
        if entity is None or series is None:
            return None
        out[entity] = series  # a repeated entity: the later wins, as in the tree path
    return out


def _entity(part: bytes) -> str | None:
    """The moref of the <entity> that directly follows an unqualified <returnval> tag."""
    tag_end = part.find(b">")
    tag = part[:tag_end]
    after_name = tag[len(RETURNVAL_OPEN) : len(RETURNVAL_OPEN) + 1]
    if tag_end < 0 or not tag.startswith(RETURNVAL_OPEN) or after_name not in (b"", b" "):
        return None  # not a returnval (a nested or prefixed one, or <returnvalue>)
    if DEFAULT_NAMESPACE.search(tag):
        return None  # a default namespace other than the response's
    found = ENTITY.match(part, tag_end + 1)
    return found.group(1).decode("ascii") if found else None


def _series(part: bytes) -> Series | None:
    pieces = SERIES.split(part)  # [head, counter, samples, counter, samples, ...]
    if b"value" in pieces[0]:
        return None  # a series (of any prefix) before the first one recognised
    out: Series = {}
    for counter, chunk in zip(pieces[1::2], pieces[2::2], strict=True):
        samples = _samples(chunk)
        if samples is None:
            return None
        out.setdefault(int(counter), []).extend(samples)
    return out


def _samples(chunk: bytes) -> list[int] | None:
    """`<value>150</value>...</value>` (the series' own close last) -> [150, ...]."""
    if chunk == SAMPLE_CLOSE:
        return []  # a series with no samples
    if not (chunk.startswith(SAMPLE_OPEN) and chunk.endswith(SAMPLE_CLOSE + SAMPLE_CLOSE)):
        return None
    if b"," in chunk:
        return None  # one value holding a list is the CSV reading in the tree path
    text = chunk[len(SAMPLE_OPEN) : -2 * len(SAMPLE_CLOSE)].replace(SAMPLE_GAP, b",")
    if SAMPLES.fullmatch(text) is None:
        return None
    values = list(map(int, text.split(b",")))
    return [v for v in values if v >= 0] if b"-" in text else values
