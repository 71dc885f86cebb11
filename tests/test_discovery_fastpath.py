"""The fast path (raw SOAP pages parsed by ElementTree) against pyvmomi's typed objects.

Both paths read the same VMs from the same real vcsim; every record must be identical, field
for field. Two estates together cover the shapes: the seeded demo estate (renamed VMs, extra
disks, dvPortgroup NICs with VLANs, guest IPs, custom attributes, snapshots, EFI, DRS rules,
non-ASCII names) and the real-shapes estate (vApps, NSX-T opaque networks, guest interfaces
that are no virtual NIC, templates). A small page size makes the fast path follow
ContinueRetrievePropertiesEx tokens across pages.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from pyVmomi import vim

from migrator.secrets import Secret
from migrator.simulator.estate import Estate
from migrator.simulator.launcher import Simulator
from migrator.simulator.seed import seed
from migrator.vcenter import properties as P
from migrator.vcenter import rawsoap
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import Connection, ConnectionParams, TLSOptions
from migrator.vcenter.discovery import _custom_field_names, collect_chunk
from migrator.vcenter.infrastructure import collect_infrastructure
from migrator.vcenter.mapping import Lookups, vm_record
from migrator.vcenter.rawprops import retrieve_raw
from migrator.vcenter.retrieval import list_morefs
from migrator.vcenter.tags import collect_tags
from tests.conftest import ROOT

SHAPES = ROOT / "fixtures" / "estates" / "real-shapes.yaml"


@pytest.fixture(scope="module")
def shapes_sim(vcsim_binary: object) -> Iterator[Simulator]:
    estate = Estate.load(SHAPES)
    sim = Simulator(topology=estate.topology(), password="fast-S3cret!").start()
    try:
        seed(sim, estate)
        yield sim
    finally:
        sim.stop()


def _lookups(conn: Connection) -> Lookups:
    infra = collect_infrastructure(conn.content)
    infra.lookups.custom_field_names = _custom_field_names(conn.content)
    infra.lookups.tags = collect_tags(conn.params)
    return infra.lookups


def _both_paths(sim: Simulator) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    params = ConnectionParams(parse_server(sim.url), sim.username, Secret(sim.password), TLSOptions())
    conn = Connection.open(params)
    try:
        lookups = _lookups(conn)
        refs = list_morefs(conn.content, vim.VirtualMachine)
        typed = collect_chunk(conn, refs, lookups, None, typed=True)
        fast = collect_chunk(conn, refs, lookups, None)
        paged = [
            vm_record(ref, props, lookups, raw=True)
            for ref, props in retrieve_raw(
                conn.content, vim.VirtualMachine, refs, P.VM_PROPERTIES.values(), 3
            )
        ]
    finally:
        conn.close()
    return typed, fast, paged


def _by_moref(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["moref"]: r for r in records}


@pytest.mark.vcsim
@pytest.mark.parametrize("estate", ["demo", "real-shapes"])
def test_fast_path_records_equal_typed_records(
    estate: str, demo_sim: Simulator, shapes_sim: Simulator
) -> None:
    sim = demo_sim if estate == "demo" else shapes_sim
    typed, fast, paged = _both_paths(sim)
    assert len(typed) == len(fast) == len(paged) >= 4  # more than one page of 3
    assert _by_moref(fast) == _by_moref(typed)
    assert _by_moref(paged) == _by_moref(typed)
    # The comparison means something only if the estate exercises the lazily converted parts.
    assert any(r["disks"] and r["nics"] for r in typed)
    assert any(r["snapshot_count"] for r in typed) or any(r["guest_interfaces"] for r in typed)
    assert any(r["custom_fields"] for r in typed) or any(r["vapp"] for r in typed)
    assert any(ip for r in typed for ip in r["ip_addresses"])
    # the raw path skips the pass that makes values plain: they must be plain already (a str
    # subclass such as a pyvmomi enum would not pickle across the worker processes)
    assert not [v for r in fast + paged for v in _leaves(r) if type(v) not in PLAIN]


PLAIN = (str, int, float, bool, type(None))


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v)]
    return [value]


class _Body(io.BytesIO):
    """A response body read in small pieces, as a socket delivers it."""

    def read(self, size: int | None = -1) -> bytes:
        return super().read(7)  # 7 bytes: "<!DOCTYPE" always arrives split across reads


def _elements(body: bytes, depth: int = 4) -> list[str]:
    return [el.tag for el in rawsoap._parse_at_depth(_Body(body), depth)]


SOAP = (
    b'<?xml version="1.0"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<soapenv:Body><R xmlns="urn:vim25"><returnval><x>1</x></returnval><returnval/></R>'
    b"</soapenv:Body></soapenv:Envelope>"
)


def test_parser_yields_elements_at_the_asked_depth() -> None:
    assert _elements(SOAP) == ["{urn:vim25}returnval", "{urn:vim25}returnval"]
    assert _elements(SOAP, 5) == ["{urn:vim25}x"]


@pytest.mark.parametrize(
    "prolog",
    [
        b'<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">]>',
        b'<!DOCTYPE r SYSTEM "file:///etc/passwd">',
    ],
)
def test_parser_refuses_dtds_and_entities(prolog: bytes) -> None:
    body = SOAP.replace(b"?>", b"?>" + prolog, 1)
    with pytest.raises(rawsoap.UnsafeResponse, match="DTD"):
        _elements(body)


def test_parser_refuses_oversized_responses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(rawsoap, "MAX_RESPONSE_BYTES", 64)
    with pytest.raises(rawsoap.UnsafeResponse, match="larger than"):
        _elements(SOAP)
