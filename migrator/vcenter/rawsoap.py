"""Call a read method through pyvmomi's stub but parse the answer with lxml (libxml2).

pyvmomi deserialises SOAP in Python callbacks, one object per element; a week of samples for
thousands of VMs is millions of elements, and a page of 500 VMs' devices hundreds of
thousands. The request is still built by pyvmomi and goes through the same connection pool,
cookie and read-only allow-list; only the response parsing differs. libxml2 builds the tree
in C without a Python object per element (about 2.5x cheaper than ElementTree here); the
elements handed out follow the ElementTree API.

The parser is hardened: a response with a DTD or entity declaration is refused before it is
parsed (SOAP never has one), and a response larger than MAX_RESPONSE_BYTES is refused; libxml2
is told never to resolve entities or touch the network either way.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from xml.etree import ElementTree

from lxml import etree

from migrator.errors import InterruptedRun, WriteRefused
from migrator.vcenter.readonly import READ_METHODS

VIM = "{urn:vim25}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
MAX_RESPONSE_BYTES = 512 * 2**20  # a page of 500 VMs is a few MB; QueryPerf batches tens of MB
READ_SIZE = 256 * 1024
RETURNVAL_DEPTH = 4  # Envelope / Body / <Method>Response / returnval
_FORBIDDEN = (b"<!DOCTYPE", b"<!ENTITY")


class UnsafeResponse(ValueError):
    """The response is not a plain SOAP document (DTD, entities) or exceeds the size bound."""


def stream_elements(mo: Any, py_method: str, args: list[Any], depth: int) -> Iterator[Any]:
    """Yield each element that closes at `depth` (1 = the Envelope), cleared after use."""
    yield from answer_elements(fetch(mo, py_method, args), depth)


@dataclass
class Answer:
    """A response body read in full (within the bound), not parsed yet."""

    method: str  # the WSDL name, for messages
    chunks: list[bytes]


def fetch(mo: Any, py_method: str, args: list[Any]) -> Answer:
    """Send one read call and read its answer; thread-safe (pyvmomi's connection pool is), so
    the next QueryPerf batch can be on the wire while this one is parsed."""
    info = type(mo)._GetMethodInfo(py_method)
    if info.wsdlName not in READ_METHODS:
        raise WriteRefused(f"refused to call vSphere method {info.wsdlName!r}: discovery is read-only")
    stub = mo._stub
    body = stub.SerializeRequest(mo, info, args)
    headers = {"Cookie": stub.cookie, "SOAPAction": stub.versionId, "Content-Type": "text/xml; charset=UTF-8"}
    conn = stub.GetConnection()
    try:
        conn.request("POST", stub.path, body, headers)
        response = conn.getresponse()
        if response.status == 500:
            raise InterruptedRun(f"vCenter refused {info.wsdlName}: {_fault_string(response.read())}")
        if response.status != 200:
            raise http.client.HTTPException(f"HTTP {response.status} to {info.wsdlName}")
        chunks = _read_bounded(response)
    except UnsafeResponse as exc:
        conn.close()
        raise InterruptedRun(f"vCenter's answer to {info.wsdlName} was refused: {exc}") from None
    except BaseException:
        conn.close()
        raise
    stub.ReturnConnection(conn)
    return Answer(info.wsdlName, chunks)


def answer_elements(answer: Answer, depth: int) -> Iterator[Any]:
    """The elements at `depth` of a fetched answer, each cleared after use."""
    try:
        root = _parse(answer.chunks)
    except etree.XMLSyntaxError as exc:
        raise InterruptedRun(f"vCenter's answer to {answer.method} was refused: {exc}") from None
    yield from _at_depth(root, depth)


def _parse_at_depth(response: Any, depth: int) -> Iterator[Any]:
    """The elements at `depth` of a whole response (lxml elements), read within the size bound
    first: one C parse of a page is several times cheaper than pull parsing it with events."""
    yield from _at_depth(_parse(_read_bounded(response)), depth)


def _read_bounded(response: Any) -> list[bytes]:
    chunks: list[bytes] = []
    total = 0
    tail = b""
    while chunk := response.read(READ_SIZE):
        total += len(chunk)
        if total > MAX_RESPONSE_BYTES:
            raise UnsafeResponse(f"larger than {MAX_RESPONSE_BYTES // 2**20} MiB")
        window = tail + chunk  # a marker split across two reads is still seen
        if any(marker in window for marker in _FORBIDDEN):
            raise UnsafeResponse("it declares a DTD or entities")
        tail = chunk[-(len(_FORBIDDEN[0]) - 1) :]
        chunks.append(chunk)
    return chunks


def _parse(chunks: list[bytes]) -> Any:
    parser = _parser()
    for chunk in chunks:
        parser.feed(chunk)
    chunks.clear()
    return parser.close()


def _at_depth(root: Any, depth: int) -> Iterator[Any]:
    level: list[Any] = [root]
    for _ in range(depth - 1):
        level = [child for element in level for child in element]
    for element in level:
        yield element
        element.clear()  # mapped by now: free the subtree before the next one


def _parser() -> Any:
    """No DTD, entities or network; comments and processing instructions dropped, so every
    child is an element, as with ElementTree."""
    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, remove_comments=True, remove_pis=True
    )


def _fault_string(body: bytes) -> str:
    if any(marker in body for marker in _FORBIDDEN):
        return "unreadable fault"
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return "unreadable fault"
    text = next((el.text for el in root.iter() if el.tag.endswith("faultstring")), None)
    return (text or "unknown fault").strip()[:300]


def series_values(series: Any) -> list[float]:
    """Samples of one PerfMetricIntSeries (one <value> each) or PerfMetricSeriesCSV (one CSV string)."""
    values = series.findall(VIM + "value")
    try:
        if "CSV" in (series.get(XSI_TYPE) or "") or (len(values) == 1 and "," in (values[0].text or "")):
            text = values[0].text if values else ""
            return [float(v) for v in (text or "").split(",") if v not in ("", "-1")]
        return [v for v in (float(el.text or "-1") for el in values) if v >= 0]
    except ValueError as exc:  # a sample that is no number: the answer is garbled, not data
        raise InterruptedRun(f"vCenter's answer to QueryPerf was refused: {exc}"[:300]) from None
