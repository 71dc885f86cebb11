"""Flow evidence as real exporters and files deliver it (issues 9 and 10): options templates,
request/reply records of one session, legacy Windows ephemeral ports, absurd counters and the
exact line of a CSV error. Packets are built here and sent over a real UDP socket."""

from __future__ import annotations

import ipaddress
import socket
import struct
import subprocess
import time
from pathlib import Path

from migrator.flows.direction import SessionOrienter
from migrator.flows.ipfix import FlowDecoder
from migrator.flows.records import Flow
from tests.conftest import free_port
from tests.helpers import assert_one_line_error, migrator, migrator_command
from tests.test_flows import HEADER, V4_FIELDS, _ipfix, _set, _template, _v4, stored_flows
from waves.graph import build_graph
from waves.parameters import PlanParameters

MAX = 2**63 - 1


def _options_template_ipfix(template_id: int) -> bytes:
    # scope observationDomainId (149); options exportedMessageTotalCount (41), samplingInterval (34)
    fields = [(149, 4), (41, 8), (34, 4)]
    body = struct.pack("!HHH", template_id, len(fields), 1) + b"".join(struct.pack("!HH", *f) for f in fields)
    return _set(3, body)


def _netflow9(*flowsets: bytes, uptime: int = 120_000, secs: int = 1_762_000_000) -> bytes:
    return struct.pack("!HHIIII", 9, len(flowsets), uptime, secs, 1, 9) + b"".join(flowsets)


def _nf9_options_template(template_id: int) -> bytes:
    scope = struct.pack("!HH", 1, 4)  # scope: System, 4 bytes
    options = struct.pack("!HHHH", 40, 4, 34, 4)  # TOTAL_BYTES_EXP, SAMPLING_INTERVAL
    body = struct.pack("!HHH", template_id, len(scope), len(options)) + scope + options + b"\x00\x00"
    return _set(1, body)


def _collect(tmp_path: Path, packets: list[bytes]) -> tuple[str, str]:
    port = free_port()
    cmd = migrator_command(
        "flows",
        "collect",
        "--listen",
        f"127.0.0.1:{port}",
        "--packets",
        str(len(packets)),
        "--duration",
        "60",
        workspace=tmp_path,
    )
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    assert proc.stderr.readline().startswith("listening on udp")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", port))
            time.sleep(0.01)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    return out, err


def test_options_templates_and_their_data_are_skipped_quietly(tmp_path: Path) -> None:
    options_data = struct.pack("!IQI", 1, 12345, 1)
    ipfix = _ipfix(
        _options_template_ipfix(400),
        _template(256, V4_FIELDS),
        _set(400, options_data),
        _set(256, _v4("10.0.0.1", "10.0.0.2", 40001, 443, 100, 1, 1_762_000_000_000)),
    )
    ipfix_again = _ipfix(_set(400, options_data))  # softflowd sends options data with every export
    nf9_fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4)]
    nf9_template = struct.pack("!HH", 260, len(nf9_fields)) + b"".join(
        struct.pack("!HH", *f) for f in nf9_fields
    )
    nf9_record = struct.pack(
        "!4s4sHHBII",
        ipaddress.IPv4Address("10.0.0.5").packed,
        ipaddress.IPv4Address("10.0.0.6").packed,
        33000,
        2049,
        6,
        4096,
        4,
    )
    nf9 = _netflow9(
        _nf9_options_template(300),
        _set(0, nf9_template),
        _set(300, struct.pack("!III", 9, 1000, 1)),
        _set(260, nf9_record + b"\x00\x00\x00"),
    )
    decoder = FlowDecoder()
    flows = [f for p in (ipfix, ipfix_again, nf9) for f in decoder.decode(p, "192.0.2.9")]
    assert len(flows) == 2
    stats = decoder.stats
    assert (stats.options, stats.options_templates, stats.without_template, stats.malformed) == (3, 2, 0, 0)

    out, err = _collect(tmp_path, [ipfix, ipfix_again, nf9])
    assert "3 options data set(s) skipped (exporter metadata)" in err
    assert "arrived before their template" not in err and "warning" not in err
    assert "2 aggregated flow(s)" in out
    # a real loss (data whose template never came) still warns
    lost = _ipfix(_set(500, b"\x00" * 20), domain=4)
    _out, err = _collect(tmp_path / "lost", [ipfix, lost])
    assert "1 data set(s) arrived before their template and were skipped" in err


def test_a_record_and_its_reply_are_one_session_with_one_connection_confidence() -> None:
    request = _v4("10.0.0.1", "10.0.0.2", 40001, 443, 1000, 10, 1_762_000_000_000)
    reply = _v4("10.0.0.2", "10.0.0.1", 443, 40001, 9000, 12, 1_762_000_000_000)
    later = _v4("10.0.0.1", "10.0.0.2", 40001, 443, 10, 1, 1_762_000_060_000)  # same session, active timeout
    decoder = FlowDecoder()
    orienter = SessionOrienter()
    orienter.add(
        decoder.decode(_ipfix(_template(256, V4_FIELDS), _set(256, request + reply + later)), orient=False)
    )
    flows = orienter.flows()
    assert [(f.src_ip, f.dst_ip, f.dst_port, f.bytes, f.packets, f.connections) for f in flows] == [
        ("10.0.0.1", "10.0.0.2", 443, 10010, 23, 1)
    ]
    vms = [
        {"name": "web", "moref": "vm-1", "ip_addresses": ["10.0.0.1"], "num_cpu": 1, "memory_mb": 1024},
        {"name": "api", "moref": "vm-2", "ip_addresses": ["10.0.0.2"], "num_cpu": 1, "memory_mb": 1024},
    ]
    graph = build_graph(vms, [], flows, PlanParameters())
    edge = graph.g.edges["web", "api"]
    assert edge["connections"] == 1 and edge["confidence"] == 0.5  # one session, not two records
    assert not graph.g.has_edge("api", "web")


def _legacy_windows_packets() -> list[bytes]:
    """A server on 192.0.2.1:40000 (an unlisted high port) with clients on Windows 2003-era
    ephemeral ports (1025-5000), and a server on :8000 of which only a reply was exported."""
    records = b""
    for client, port in (("192.0.2.2", 4997), ("192.0.2.2", 4998), ("192.0.2.3", 1030)):
        records += _v4(client, "192.0.2.1", port, 40000, 300, 3, 1_762_000_000_000)
        records += _v4("192.0.2.1", client, 40000, port, 5000, 5, 1_762_000_000_000)
    records += _v4("192.0.2.10", "192.0.2.2", 8000, 4997, 700, 2, 1_762_000_000_000)  # a reply alone
    return [_ipfix(_template(256, V4_FIELDS), _set(256, records))]


def test_legacy_windows_ephemeral_ports_over_ipfix(tmp_path: Path) -> None:
    _collect(tmp_path, _legacy_windows_packets())
    assert stored_flows(tmp_path) == [
        ("192.0.2.2", "192.0.2.1", 40000, "tcp", 10600, 16, 2),
        ("192.0.2.2", "192.0.2.10", 8000, "tcp", 700, 2, 1),
        ("192.0.2.3", "192.0.2.1", 40000, "tcp", 5300, 8, 1),
    ]


def test_legacy_windows_ephemeral_ports_in_a_csv(tmp_path: Path) -> None:
    path = tmp_path / "legacy.csv"
    path.write_text(
        HEADER
        + "192.0.2.2,192.0.2.1,40000,tcp,600,6,2,,\n"
        + "192.0.2.1,192.0.2.2,4997,tcp,5000,5,1,,\n"  # replies, as an exporter's CSV lists them
        + "192.0.2.1,192.0.2.2,4998,tcp,5000,5,1,,\n"
        + "192.0.2.3,192.0.2.1,40000,tcp,300,3,1,,\n"
        + "192.0.2.1,192.0.2.3,1030,tcp,5000,5,1,,\n"
        + "10.0.0.1,10.0.0.2,5432,tcp,10,1,1,,\n"  # two real services, both ways: both kept
        + "10.0.0.2,10.0.0.1,8080,tcp,20,1,1,,\n"
    )
    result = migrator("import", "flows", str(path), workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert "3 row(s) were replies of another row" in result.stderr
    assert stored_flows(tmp_path) == [
        ("10.0.0.1", "10.0.0.2", 5432, "tcp", 10, 1, 1),
        ("10.0.0.2", "10.0.0.1", 8080, "tcp", 20, 1, 1),
        ("192.0.2.2", "192.0.2.1", 40000, "tcp", 10600, 16, 2),
        ("192.0.2.3", "192.0.2.1", 40000, "tcp", 5300, 8, 1),
    ]


def test_absurd_counters_and_times_are_skipped_and_sums_saturate(tmp_path: Path) -> None:
    path = tmp_path / "absurd.csv"
    path.write_text(
        HEADER
        + "10.0.0.1,10.0.0.2,443,tcp,1e400,1,1,,\n"
        + f"10.0.0.1,10.0.0.2,443,tcp,{2**63},1,1,,\n"
        + "10.0.0.1,10.0.0.2,443,tcp,1,1,1,2026-11-02T00:00:00Z,2026-11-01T00:00:00Z\n"
        + f"10.0.0.1,10.0.0.3,443,tcp,{MAX - 5},1,1,,\n"
        + f"10.0.0.1,10.0.0.3,443,tcp,{MAX - 5},1,1,,\n"
        + "10.0.0.1,10.0.0.3,443,tcp,nan,1,1,,\n"
    )
    result = migrator("import", "flows", str(path), workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert "4 malformed skipped" in result.stdout
    assert "warning: line 2: counter 1e400 above 2^63-1" in result.stderr
    assert f"warning: line 3: counter {2**63} above 2^63-1" in result.stderr
    assert "warning: line 4: last_seen 2026-11-01T00:00:00+00:00 precedes first_seen" in result.stderr
    assert "warning: line 7: counter nan above 2^63-1" in result.stderr
    assert stored_flows(tmp_path) == [("10.0.0.1", "10.0.0.3", 443, "tcp", MAX, 2, 2)]
    # IPFIX: a counter beyond 2^63 - 1 and a time beyond year 9999 are counted, never a crash
    decoder = FlowDecoder()
    huge = _v4("10.0.0.1", "10.0.0.2", 40001, 443, 2**64 - 1, 1, 1_762_000_000_000)
    far = _v4("10.0.0.1", "10.0.0.2", 40002, 443, 1, 1, 2**64 - 70_000)
    flows = decoder.decode(_ipfix(_template(256, V4_FIELDS), _set(256, huge + far)))
    assert decoder.stats.absurd == 1 and len(flows) == 1 and flows[0].first_seen is None
    assert decoder.stats.times_dropped == 2  # start and end: counted, reported by the collector


def test_csv_errors_name_the_offending_line(tmp_path: Path) -> None:
    path = tmp_path / "long.csv"
    path.write_text(
        HEADER + "10.0.0.1,10.0.0.2,443,tcp,1,1,1,,\n" + "10.0.0.1,10.0.0.2,443,tcp," + "9" * 80 + ",1,1,,\n"
    )
    env = {"MIGRATOR_LIMIT_STRING_CHARS": "50"}
    result = migrator("import", "flows", str(path), workspace=tmp_path, env=env)
    assert_one_line_error(result, 2, "long.csv: line 3: a field exceeds the limit of 50 characters")
    rows = tmp_path / "rows.csv"
    rows.write_text(HEADER + "10.0.0.1,10.0.0.2,443,tcp,1,1,1,,\n" * 3)
    limited = migrator("import", "flows", str(rows), workspace=tmp_path, env={"MIGRATOR_LIMIT_ROWS_CSV": "2"})
    assert_one_line_error(
        limited, 2, "rows.csv: the file exceeds the limit of 2 rows", "MIGRATOR_LIMIT_ROWS_CSV"
    )
    assert migrator("flows", "list", "--format", "json", workspace=tmp_path).json() == []


def test_flow_record_keeps_no_source_port_once_aggregated() -> None:
    orienter = SessionOrienter()
    orienter.add([Flow("10.0.0.1", "10.0.0.2", 53, "udp", 1, 1, src_port=50000)])
    assert [f.src_port for f in orienter.flows()] == [None]


def test_template_flood_is_bounded() -> None:
    decoder = FlowDecoder()
    for domain in range(11):  # 11 x 1000 template ids: more than a collector keeps
        sets = b"".join(_template(256 + i, [(8, 4), (12, 4)]) for i in range(1000))
        decoder.decode(_ipfix(sets, domain=domain))
    assert len(decoder.templates) == 10_000
    assert decoder.stats.malformed > 0
    assert any("more than 10000 templates" in p for p in decoder.stats.problems)
