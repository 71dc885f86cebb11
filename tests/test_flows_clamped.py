"""Nothing hidden (issue 19): a flow counter capped at 2^63-1 is a changed value, so it is
counted, named in one warning line and shown by `flows list`; rows and records the readers skip
or change (fractional counters, over-long names, records without addresses, times beyond year
9999) are counted too. Every file and packet is built here; the CLI runs as a subprocess."""

from __future__ import annotations

import struct
from pathlib import Path

from alembic import command
from sqlalchemy import create_engine, text

from migrator.flows.direction import SessionOrienter
from migrator.flows.records import Flow, ReadResult, aggregate
from migrator.store.schema import alembic_config
from tests.helpers import migrator
from tests.test_flows import V4_FIELDS, _ipfix, _set, _template, _v4, stored_flows
from tests.test_flows_real_world import _collect

MAX = 2**63 - 1
QUARTER = 2**62  # two of them sum to 2^63: one past what the store holds
HEADER = "src_ip,dst_ip,dst_port,protocol,bytes,packets,connections\n"


def _warnings(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("warning: ")]


def test_csv_sums_past_2_63_are_counted_in_the_warning_the_summary_and_flows_list(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_text(
        HEADER
        + f"10.0.0.1,10.0.0.2,443,tcp,{QUARTER},{QUARTER},1\n" * 3  # bytes and packets capped
        + f"10.0.0.1,10.0.0.3,5432,tcp,{MAX - 5},1,1\n"  # sums to exactly 2^63-1: not capped
        + "10.0.0.1,10.0.0.3,5432,tcp,5,1,1\n"
        + f"10.0.0.4,10.0.0.3,5432,tcp,{MAX - 5},1,1\n"  # one past: bytes capped
        + "10.0.0.4,10.0.0.3,5432,tcp,6,1,1\n"
        + f"10.0.0.5,10.0.0.6,443,tcp,{MAX - 1},1,1\n"  # capped when its reply row is folded in
        + "10.0.0.6,10.0.0.5,50000,tcp,2,1,1\n"
    )
    result = migrator("import", "flows", str(path), workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert (
        result.stdout.strip()
        == "flow set 1: 4 aggregated flow(s) from big.csv; 4 counter(s) capped at 2^63-1"
    )
    clamp_line = (
        "warning: 4 counter(s) in 3 flow(s) summed past 2^63-1 and were capped there (stored lower "
        "than the evidence adds up to): 10.0.0.1 -> 10.0.0.2:443/tcp bytes/packets; "
        "10.0.0.4 -> 10.0.0.3:5432/tcp bytes; 10.0.0.5 -> 10.0.0.6:443/tcp bytes"
    )
    assert [w for w in _warnings(result.stderr) if "2^63-1" in w] == [clamp_line]
    assert stored_flows(tmp_path) == [
        ("10.0.0.1", "10.0.0.2", 443, "tcp", MAX, MAX, 3),
        ("10.0.0.1", "10.0.0.3", 5432, "tcp", MAX, 2, 2),
        ("10.0.0.4", "10.0.0.3", 5432, "tcp", MAX, 2, 2),
        ("10.0.0.5", "10.0.0.6", 443, "tcp", MAX, 2, 1),
    ]
    listed = migrator("flows", "list", "--format", "json", workspace=tmp_path).json()
    assert [(s["origin"], s["records"], s["malformed"], s["clamped"]) for s in listed] == [
        ("big.csv", 4, 0, 4)
    ]
    assert clamp_line.removeprefix("warning: ") in listed[0]["warnings"]
    table = migrator("flows", "list", workspace=tmp_path)
    header = next(line for line in table.stdout.splitlines() if "Malformed" in line)
    row = next(line for line in table.stdout.splitlines() if "big.csv" in line)
    cells = [cell.strip() for cell in row.strip("│ ").split("│")]
    headers = [cell.strip() for cell in header.strip("┃ ").split("┃")]
    assert dict(zip(headers, cells, strict=True))["Clamped"] == "4"


def test_a_csv_whose_sums_stay_within_2_63_has_nothing_capped(tmp_path: Path) -> None:
    path = tmp_path / "edge.csv"
    path.write_text(
        HEADER + f"10.0.0.1,10.0.0.3,5432,tcp,{MAX - 5},{MAX},1\n" + "10.0.0.1,10.0.0.3,5432,tcp,5,0,1\n"
    )
    result = migrator("import", "flows", str(path), workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert result.stdout.strip() == "flow set 1: 1 aggregated flow(s) from edge.csv"
    assert _warnings(result.stderr) == []
    assert [
        s["clamped"] for s in migrator("flows", "list", "--format", "json", workspace=tmp_path).json()
    ] == [0]


def test_fractional_counters_and_overlong_names_are_counted_rows_not_silent_changes(tmp_path: Path) -> None:
    generic = tmp_path / "fractions.csv"
    generic.write_text(
        HEADER + "10.0.0.1,10.0.0.2,443,tcp,2.5,1,1\n" + "10.0.0.1,10.0.0.2,443,tcp,1e3,4.0,1\n"
    )
    result = migrator("import", "flows", str(generic), workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert "1 aggregated flow(s) from fractions.csv; 1 malformed skipped" in result.stdout
    assert _warnings(result.stderr) == ["warning: line 2: counter 2.5 is not a whole number"]
    assert stored_flows(tmp_path) == [("10.0.0.1", "10.0.0.2", 443, "tcp", 1000, 4, 1)]
    azure = tmp_path / "azure.csv"
    azure.write_text(
        "Source server name,Source IP,Destination server name,Destination IP,Destination port\n"
        + f"app01,10.0.1.1,{'d' * 256},10.0.1.2,1433\n"
        + f"app01,10.0.1.1,{'d' * 255},10.0.1.2,1433\n"
    )
    result = migrator("import", "flows", str(azure), "--format", "azure-migrate", workspace=tmp_path)
    assert result.code == 0, result.stderr
    assert "1 aggregated flow(s) from azure.csv; 1 malformed skipped" in result.stdout
    assert _warnings(result.stderr) == [f"warning: line 2: name longer than 255 characters: {'d' * 40!r}..."]


def test_ipfix_sums_past_2_63_and_skipped_records_are_counted_by_the_collector(tmp_path: Path) -> None:
    start = 1_762_000_000_000
    no_addresses = [(7, 2), (11, 2), (4, 1), (1, 8)]
    packet = _ipfix(
        _template(256, V4_FIELDS),
        _template(258, no_addresses),
        _set(
            256,
            # two sessions of one flow, each within 2^63-1: the flow's sum is capped (bytes)
            _v4("10.0.0.1", "10.0.0.2", 40001, 443, QUARTER * 2 - 1, 1, start)
            + _v4("10.0.0.1", "10.0.0.2", 40002, 443, 1, 1, start)
            # one session past 2^63-1 in bytes and packets, and its reply
            + _v4("10.0.0.3", "10.0.0.4", 40001, 5432, QUARTER, QUARTER, start)
            + _v4("10.0.0.3", "10.0.0.4", 40001, 5432, QUARTER, QUARTER, start)
            + _v4("10.0.0.4", "10.0.0.3", 5432, 40001, 100, 1, start)
            # times beyond year 9999: the record is kept without them
            + _v4("10.0.0.7", "10.0.0.8", 40003, 80, 1, 1, 2**64 - 70_000),
        ),
        _set(258, struct.pack("!HHBQ", 40004, 53, 17, 10)),
    )
    out, err = _collect(tmp_path, [packet])
    assert "flow set 1: 3 aggregated flow(s) from udp 127.0.0.1" in out
    assert out.strip().endswith("; 3 counter(s) capped at 2^63-1")
    assert _warnings(err) == [
        "warning: 1 record(s) lacking a source or destination address were skipped",
        "warning: 2 start/end time(s) beyond year 9999 were dropped (their records are kept without them)",
        "warning: 3 counter(s) in 2 flow(s) summed past 2^63-1 and were capped there (stored lower than "
        "the evidence adds up to): 10.0.0.1 -> 10.0.0.2:443/tcp bytes; 10.0.0.3 -> 10.0.0.4:5432/tcp "
        "bytes/packets",
    ]
    assert stored_flows(tmp_path) == [
        ("10.0.0.1", "10.0.0.2", 443, "tcp", MAX, 2, 2),
        ("10.0.0.3", "10.0.0.4", 5432, "tcp", MAX, MAX, 1),
        ("10.0.0.7", "10.0.0.8", 80, "tcp", 1, 1, 1),
    ]
    listed = migrator("flows", "list", "--format", "json", workspace=tmp_path).json()
    assert [(s["source"], s["records"], s["clamped"]) for s in listed] == [("ipfix", 3, 3)]


def test_a_collection_that_stores_nothing_still_reports_what_it_skipped(tmp_path: Path) -> None:
    packet = _ipfix(_template(258, [(7, 2), (11, 2), (4, 1)]), _set(258, struct.pack("!HHB", 1, 53, 17) * 2))
    _out, err = _collect(tmp_path, [packet])
    assert _warnings(err) == ["warning: 2 record(s) lacking a source or destination address were skipped"]
    assert err.strip().endswith("no flows received: nothing stored")


def test_upgrade_counts_the_capped_counters_of_flow_sets_stored_before(tmp_path: Path) -> None:
    """A workspace at revision 0006 capped sums without counting them: the upgrade counts every
    counter stored at exactly 2^63-1, and sets without one get 0."""
    workspace = tmp_path / "ws"
    workspace.mkdir()
    # open_engine would upgrade to the head: the old database is made by Alembic itself
    old = create_engine(f"sqlite:///{workspace / 'inventory.db'}")
    with old.begin() as conn:
        config = alembic_config()
        config.attributes["connection"] = conn
        command.upgrade(config, "0006_findings_cache")
        for set_id, origin in ((1, "capped.csv"), (2, "plain.csv")):
            conn.execute(
                text(
                    "INSERT INTO flow_sets (id, source, origin, digest, created_at, records, "
                    "malformed, warnings) "
                    "VALUES (:id, 'generic-csv', :origin, :origin, '2026-11-01 00:00:00', 2, 0, '[]')"
                ),
                {"id": set_id, "origin": origin},
            )
        rows = [(1, MAX, MAX, 1), (1, 5, 1, MAX), (2, MAX - 1, 1, 1), (2, 7, 1, 1)]
        for set_id, octets, packets, connections in rows:
            conn.execute(
                text(
                    "INSERT INTO flows (flow_set_id, src_ip, dst_ip, dst_port, protocol, bytes, packets, "
                    "connections) VALUES (:s, '10.0.0.1', '10.0.0.2', 443, 'tcp', :b, :p, :c)"
                ),
                {"s": set_id, "b": octets, "p": packets, "c": connections},
            )
    old.dispose()
    listed = migrator("flows", "list", "--format", "json", workspace=workspace)
    assert listed.code == 0, listed.stderr
    assert [(s["origin"], s["clamped"]) for s in listed.json()] == [("capped.csv", 3), ("plain.csv", 0)]


def test_every_merge_carries_the_capped_counters_into_the_stored_flow() -> None:
    """The Aggregator (both CSV readers; Azure Migrate sums `connections` there), the collector's
    folds of open sessions and its ICMP records without ports."""
    many = Flow("10.0.1.1", None, 1433, "tcp", connections=MAX - 1, src_name="app01", dst_name="db01")
    merged = aggregate([many, Flow("10.0.1.1", None, 1433, "tcp", src_name="app01", dst_name="db01")])
    assert [(f.connections, f.clamped) for f in merged] == [(MAX, frozenset())]  # exactly 2^63-1
    merged = aggregate([*merged, Flow("10.0.1.1", None, 1433, "tcp", src_name="app01", dst_name="db01")])
    assert [(f.connections, f.clamped) for f in merged] == [(MAX, frozenset({"connections"}))]
    result = ReadResult(merged)
    result.count_clamped()
    assert result.clamped == 1
    assert result.warnings[-1].endswith(": 10.0.1.1 -> db01:1433/tcp connections")
    # one session open at a time: the cap reached across folds is still counted, once
    orienter = SessionOrienter(max_sessions=1)
    orienter.add(
        [Flow("10.0.0.1", "10.0.0.2", 443, "tcp", QUARTER * 2 - 1, 1, src_port=40001 + i) for i in range(3)]
    )
    orienter.add([Flow("10.0.0.3", "10.0.0.4", None, "icmp", QUARTER, QUARTER) for _ in range(2)])
    flows = sorted(orienter.flows(), key=lambda f: str(f.src_ip))
    assert [(f.src_ip, f.bytes, f.packets, f.connections, sorted(f.clamped)) for f in flows] == [
        ("10.0.0.1", MAX, 3, 3, ["bytes"]),
        ("10.0.0.3", MAX, MAX, 2, ["bytes", "packets"]),
    ]
