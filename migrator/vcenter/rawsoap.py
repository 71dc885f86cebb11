"""Call a read method through pyvmomi's stub but parse the answer with ElementTree.

pyvmomi deserialises SOAP in Python callbacks, one object per element; a week of samples for
thousands of VMs is millions of elements (vcsim answers QueryPerf in the per-sample format
even when CSV is asked for). The request is still built by pyvmomi and goes through the same
connection pool, cookie and read-only allow-list; only the response parsing differs.
"""

from __future__ import annotations

import http.client
from collections.abc import Iterator
from typing import Any
from xml.etree import ElementTree

from migrator.errors import InterruptedRun, WriteRefused
from migrator.vcenter.readonly import READ_METHODS

VIM = "{urn:vim25}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"


def stream_returnvals(mo: Any, py_method: str, args: list[Any]) -> Iterator[ElementTree.Element]:
    """Yield each <returnval> element of the response, cleared after use to bound memory."""
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
        for _event, element in ElementTree.iterparse(response, events=("end",)):
            if element.tag == VIM + "returnval":
                yield element
                element.clear()
        stub.ReturnConnection(conn)
    except BaseException:
        conn.close()
        raise


def _fault_string(body: bytes) -> str:
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return "unreadable fault"
    text = next((el.text for el in root.iter() if el.tag.endswith("faultstring")), None)
    return (text or "unknown fault").strip()[:300]


def series_values(series: ElementTree.Element) -> list[float]:
    """Samples of one PerfMetricIntSeries (one <value> each) or PerfMetricSeriesCSV (one CSV string)."""
    values = series.findall(VIM + "value")
    if "CSV" in (series.get(XSI_TYPE) or "") or (len(values) == 1 and "," in (values[0].text or "")):
        text = values[0].text if values else ""
        return [float(v) for v in (text or "").split(",") if v not in ("", "-1")]
    return [v for v in (float(el.text or "-1") for el in values) if v >= 0]
