"""Flow evidence: the CSV importers against good and malformed input, IPFIX/NetFlow v9 decoding of
packets built here, and the collector receiving them over a real UDP socket."""

from __future__ import annotations

import ipaddress
import socket
import struct
import subprocess
import time
from pathlib import Path

from migrator.flows.ipfix import FlowDecoder
from migrator.settings import Settings
from migrator.store.database import open_engine
from migrator.store.flows import FlowStore
from tests.conftest import free_port
from tests.helpers import assert_one_line_error, migrator, migrator_command

ROOT = Path(__file__).resolve().parents[1]
FLOWS = ROOT / "fixtures" / "flows"
HEADER = "src_ip,dst_ip,dst_port,protocol,bytes,packets,connections,first_seen,last_seen\n"


def stored_flows(workspace: Path) -> list[tuple[object, ...]]:
    store = FlowStore(open_engine(Settings.resolve(workspace, None)))
    rows = [
        (f.src_ip, f.dst_ip, f.dst_port, f.protocol, f.bytes, f.packets, f.connections) for f in store.flows()
    ]
    return sorted(rows, key=str)


# -- CSV ------------------------------------------------------------------------------------------
def test_generic_csv_aggregates_and_reports_malformed_rows(tmp_path: Path) -> None:
    path = tmp_path / "flows.csv"
    path.write_text(
        HEADER
        + "10.0.0.1,10.0.0.2,443,tcp,100,2,1,2026-11-01T00:00:00Z,2026-11-01T01:00:00Z\n"
        + "10.0.0.1,10.0.0.2,443,6,50,1,2,1762000000,\n"  # same key: protocol number, epoch time
        + "not-an-ip,10.0.0.2,443,tcp,1,1,1,,\n"
        + "10.0.0.1,10.0.0.3,99999,tcp,1,1,1,,\n"
        + "10.0.0.1,10.0.0.3,22,tcp,-5,1,1,,\n"
        + "10.0.0.1,10.0.0.3,22,tcp,5,1,1,yesterday,\n"
        + "::ffff:10.0.0.4,2001:db8::1,53,udp,7,1,1,,\n"
    )
    result = migrator("import", "flows", str(path), workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert "flow set 1: 2 aggregated flow(s) from flows.csv; 4 malformed skipped" in result.stdout
    assert "warning: line 4: not an IP address: 'not-an-ip'" in result.stderr
    assert "warning: line 5: port out of range: 99999" in result.stderr
    assert "warning: line 6: negative counter: -5" in result.stderr
    assert "warning: line 7: not a time" in result.stderr
    assert stored_flows(tmp_path) == [
        ("10.0.0.1", "10.0.0.2", 443, "tcp", 150, 3, 3),
        ("10.0.0.4", "2001:db8::1", 53, "udp", 7, 1, 1),
    ]
    again = migrator("import", "flows", str(path), workspace=tmp_path)
    assert_one_line_error(again, 2, "already imported as flow set 1")
    replaced = migrator("import", "flows", str(path), "--replace", workspace=tmp_path)
    assert replaced.code == 0 and "2 aggregated flow(s) from flows.csv" in replaced.stdout
    listed = migrator("flows", "list", "--format", "json", workspace=tmp_path).json()
    assert [(s["origin"], s["records"]) for s in listed] == [("flows.csv", 2)]
    assert len(stored_flows(tmp_path)) == 2


def test_flow_files_that_cannot_be_read(tmp_path: Path) -> None:
    cases = {
        "missing-column.csv": ("src_ip,dst_ip,protocol\n1.1.1.1,2.2.2.2,tcp\n", "missing column(s) dst_port"),
        "empty.csv": ("", "empty file, no header row"),
        "header-only.csv": (HEADER, "no flow rows"),
        "binary.csv": ("\x00\x01\x02PK", "not a CSV file"),
    }
    for name, (text, message) in cases.items():
        path = tmp_path / name
        path.write_text(text)
        assert_one_line_error(migrator("import", "flows", str(path), workspace=tmp_path), 2, message)
    assert_one_line_error(
        migrator("import", "flows", str(tmp_path / "nope.csv"), workspace=tmp_path), 2, "cannot read"
    )
    wrong = migrator(
        "import", "flows", str(FLOWS / "demo-flows.csv"), "--format", "azure-migrate", workspace=tmp_path
    )
    assert_one_line_error(wrong, 2, "not an Azure Migrate dependency export")
    assert migrator("flows", "list", "--format", "json", workspace=tmp_path).json() == []


def test_azure_migrate_export_by_ip_and_by_name(tmp_path: Path) -> None:
    result = migrator(
        "import",
        "flows",
        str(FLOWS / "demo-azure-migrate.csv"),
        "--format",
        "azure-migrate",
        workspace=tmp_path,
    )
    assert result.code == 0, result.stderr
    assert "flow set 1: 4 aggregated flow(s)" in result.stdout
    rows = stored_flows(tmp_path)
    assert ("10.0.120.42", "10.0.130.43", 1433, "tcp", 0, 0, 2) in rows  # two time slots
    assert (None, None, 443, "tcp", 0, 0, 1) in rows  # by server name only
    listed = migrator("flows", "list", "--format", "json", workspace=tmp_path).json()
    assert [(s["source"], s["records"], s["malformed"]) for s in listed] == [("azure-migrate", 4, 0)]


# -- IPFIX / NetFlow v9 packets -------------------------------------------------------------------
def _set(set_id: int, payload: bytes) -> bytes:
    return struct.pack("!HH", set_id, 4 + len(payload)) + payload


def _ipfix(*sets: bytes, domain: int = 1, export: int = 1_762_000_000) -> bytes:
    body = b"".join(sets)
    return struct.pack("!HHIII", 10, 16 + len(body), export, 7, domain) + body


V4_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 8), (152, 8), (153, 8)]


def _template(
    template_id: int, fields: list[tuple[int, int]], enterprise: tuple[int, int] | None = None
) -> bytes:
    body = b"".join(struct.pack("!HH", ie, length) for ie, length in fields)
    count = len(fields)
    if enterprise:
        body += struct.pack("!HHI", 0x8000 | enterprise[0], 4, enterprise[1])
        count += 1
    return _set(2, struct.pack("!HH", template_id, count) + body)


def _v4(src: str, dst: str, sport: int, dport: int, octets: int, packets: int, start_ms: int) -> bytes:
    return struct.pack(
        "!4s4sHHBQQQQ",
        ipaddress.IPv4Address(src).packed,
        ipaddress.IPv4Address(dst).packed,
        sport,
        dport,
        6,
        octets,
        packets,
        start_ms,
        start_ms + 60_000,
    )


def ipfix_packets() -> list[bytes]:
    v4 = _ipfix(
        _template(256, V4_FIELDS),
        _set(
            256,
            _v4("10.0.0.1", "10.0.0.2", 40001, 443, 1000, 10, 1_762_000_000_000)
            + _v4("10.0.0.1", "10.0.0.2", 40002, 443, 500, 5, 1_762_000_100_000)
            # the server's reply, exported as its own unidirectional record: turned round
            + _v4("10.0.0.2", "10.0.0.1", 443, 40001, 9000, 12, 1_762_000_000_000)
            + b"\x00\x00\x00",
        ),  # padding
    )
    # IPv6, reduced-size counters, an enterprise element and a variable-length interface name
    v6_fields = [(27, 16), (28, 16), (7, 2), (11, 2), (4, 1), (1, 4), (82, 65535)]
    v6_record = (
        ipaddress.IPv6Address("2001:db8::10").packed
        + ipaddress.IPv6Address("2001:db8::20").packed
        + struct.pack("!HHBI", 50000, 5432, 6, 777)
        + b"\x0avmnic0-x\x00\x00"
        + b"\xde\xad\xbe\xef"
    )
    v6 = _ipfix(_template(257, v6_fields, enterprise=(1001, 6876)), _set(257, v6_record), domain=2)
    early = _ipfix(_set(300, b"\x00" * 20), domain=3)  # data before any template
    truncated = _ipfix(_template(256, V4_FIELDS))[:-6] + b""
    truncated = truncated[:2] + struct.pack("!H", 200) + truncated[4:]
    garbage = b"\x00\x05" + b"\x00" * 30  # NetFlow v5 is not spoken here
    nf9_fields = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 4), (2, 4), (22, 4), (21, 4)]
    nf9_template = struct.pack("!HH", 256, len(nf9_fields)) + b"".join(
        struct.pack("!HH", *f) for f in nf9_fields
    )
    nf9_record = struct.pack(
        "!4s4sHHBIIII",
        ipaddress.IPv4Address("10.0.0.5").packed,
        ipaddress.IPv4Address("10.0.0.6").packed,
        33000,
        2049,
        6,
        4096,
        4,
        50_000,
        110_000,
    )
    nf9 = (
        struct.pack("!HHIIII", 9, 2, 120_000, 1_762_000_000, 1, 9)
        + _set(0, nf9_template)
        + _set(256, nf9_record)
    )
    return [v4, v6, early, truncated, garbage, nf9]


def test_decoder_handles_templates_ipv6_replies_and_bad_packets() -> None:
    decoder = FlowDecoder()
    flows = [f for packet in ipfix_packets() for f in decoder.decode(packet, "192.0.2.1")]
    seen = sorted((f.src_ip, f.dst_ip, f.dst_port, f.protocol, f.bytes, f.packets) for f in flows)
    assert seen == [
        ("10.0.0.1", "10.0.0.2", 443, "tcp", 500, 5),
        ("10.0.0.1", "10.0.0.2", 443, "tcp", 1000, 10),
        ("10.0.0.1", "10.0.0.2", 443, "tcp", 9000, 12),
        ("10.0.0.5", "10.0.0.6", 2049, "tcp", 4096, 4),
        ("2001:db8::10", "2001:db8::20", 5432, "tcp", 777, 0),
    ]
    nf9 = next(f for f in flows if f.dst_port == 2049)
    assert nf9.first_seen is not None and int(nf9.first_seen.timestamp()) == 1_762_000_000 - 70
    stats = decoder.stats
    assert (stats.packets, stats.records, stats.templates) == (6, 5, 3)
    assert stats.without_template == 1 and stats.malformed == 2
    assert any("version 5" in p for p in stats.problems)


def test_collector_receives_ipfix_over_udp(tmp_path: Path) -> None:
    port = free_port()
    packets = ipfix_packets()
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
    line = proc.stderr.readline()
    assert line.strip() == f"listening on udp 127.0.0.1:{port}", line
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for packet in packets:
            sock.sendto(packet, ("127.0.0.1", port))
            time.sleep(0.01)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "6 packet(s) from 1 exporter(s), 5 record(s), 3 template(s), 2 malformed" in err
    assert "flow set 1: 3 aggregated flow(s) from udp 127.0.0.1" in out
    assert "arrived before their template" in err
    assert stored_flows(tmp_path) == [  # two sessions: 40001 (request and reply) and 40002
        ("10.0.0.1", "10.0.0.2", 443, "tcp", 10500, 27, 2),
        ("10.0.0.5", "10.0.0.6", 2049, "tcp", 4096, 4, 1),
        ("2001:db8::10", "2001:db8::20", 5432, "tcp", 777, 0, 1),
    ]


def test_collector_rejects_bad_listen_address(tmp_path: Path) -> None:
    assert_one_line_error(
        migrator("flows", "collect", "--listen", "nowhere", workspace=tmp_path), 2, "HOST:PORT"
    )
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        taken = busy.getsockname()[1]
        result = migrator(
            "flows", "collect", "--listen", f"127.0.0.1:{taken}", "--duration", "1", workspace=tmp_path
        )
    assert_one_line_error(result, 2, f"cannot listen on 127.0.0.1:{taken}")
