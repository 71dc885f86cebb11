"""IPFIX (RFC 7011) and NetFlow v9 (RFC 3954) decoding, as a vSphere Distributed Switch exports it.

Templates are kept per (exporter, observation domain, template id). Options templates (IPFIX
set 3, NetFlow v9 flowset 1) are parsed too, so their data (exporter statistics, sampling
settings: softflowd sends some with every export) is recognised and skipped quietly. A data
set whose template has not arrived yet is counted, not guessed at. Every decoding problem is counted
in `DecodeStats` and the packet (or set) is skipped; nothing here raises on bad input.
Counters may come in reduced-size encoding (RFC 7011 §6.2), so integers of any length are read.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field
from datetime import UTC, datetime

from migrator.bounds import MAX_COUNTER
from migrator.flows.direction import service_end
from migrator.flows.records import PROTOCOLS, Flow

IPFIX_VERSION = 10
NETFLOW9_VERSION = 9

# Information elements (IANA IPFIX registry; NetFlow v9 uses the same numbers for these).
OCTETS = (1, 85)  # octetDeltaCount, octetTotalCount
PACKETS = (2, 86)  # packetDeltaCount, packetTotalCount
PROTOCOL = 4
SRC_PORT, DST_PORT = 7, 11
SRC_V4, DST_V4 = 8, 12
SRC_V6, DST_V6 = 27, 28
START_S, END_S = 150, 151  # flowStartSeconds, flowEndSeconds
START_MS, END_MS = 152, 153  # flowStartMilliseconds, flowEndMilliseconds
NF9_LAST_SWITCHED, NF9_FIRST_SWITCHED = 21, 22  # ms of sysUpTime
VARIABLE_LENGTH = 65535
MAX_TEMPLATES = 10_000  # per collector run: a real exporter has a handful; a hostile one, millions


@dataclass
class DecodeStats:
    packets: int = 0
    records: int = 0
    templates: int = 0
    malformed: int = 0  # packets or sets that could not be decoded
    without_template: int = 0  # data sets whose template was never seen
    options: int = 0  # options data sets (exporter metadata, not traffic), skipped on purpose
    options_templates: int = 0
    ignored: int = 0  # records with no addresses (other IEs)
    absurd: int = 0  # records with counters above 2^63 - 1 or an end before their start
    times_dropped: int = 0  # start/end times beyond year 9999 in kept records, stored as unknown
    problems: list[str] = field(default_factory=list)

    def bad(self, message: str) -> None:
        self.malformed += 1
        if len(self.problems) < 20:
            self.problems.append(message)


Template = list[tuple[int, int]]  # (information element id, length); enterprise IEs get id -1


class FlowDecoder:
    def __init__(self) -> None:
        self.templates: dict[tuple[str, int, int], Template] = {}
        self.options: set[tuple[str, int, int]] = set()  # options template ids
        self.stats = DecodeStats()

    def decode(self, packet: bytes, exporter: str = "", orient: bool = True) -> list[Flow]:
        """The packet's flow records. `orient`: turn each record client -> service on its own
        ports; without it records come as the exporter wrote them, with `src_port`, for
        migrator.flows.direction.SessionOrienter to decide with evidence from all records."""
        flows = self._decode(packet, exporter)
        return [_oriented(f) for f in flows] if orient else flows

    def _decode(self, packet: bytes, exporter: str) -> list[Flow]:
        self.stats.packets += 1
        if len(packet) < 4:
            self.stats.bad(f"{exporter}: packet of {len(packet)} bytes is too short")
            return []
        version = struct.unpack_from("!H", packet)[0]
        try:
            if version == IPFIX_VERSION:
                return self._ipfix(packet, exporter)
            if version == NETFLOW9_VERSION:
                return self._netflow9(packet, exporter)
        except (struct.error, ValueError, IndexError, OverflowError, OSError) as exc:
            self.stats.bad(f"{exporter}: undecodable packet ({exc})")
            return []
        self.stats.bad(f"{exporter}: not IPFIX or NetFlow v9 (version {version})")
        return []

    # -- IPFIX ------------------------------------------------------------------------------
    def _ipfix(self, packet: bytes, exporter: str) -> list[Flow]:
        if len(packet) < 16:
            self.stats.bad(f"{exporter}: IPFIX header truncated")
            return []
        _v, length, export_time, _seq, domain = struct.unpack_from("!HHIII", packet)
        if length > len(packet) or length < 16:
            self.stats.bad(f"{exporter}: IPFIX length {length} but {len(packet)} bytes received")
            return []
        flows: list[Flow] = []
        for set_id, body in self._sets(packet[16:length], exporter):
            if set_id == 2:
                self._templates(body, exporter, domain, ipfix=True)
            elif set_id == 3:
                self._options_templates(body, exporter, domain, ipfix=True)
            elif set_id >= 256:
                flows += self._data(body, (exporter, domain, set_id), export_time, None)
            else:
                self.stats.bad(f"{exporter}: reserved IPFIX set id {set_id}")
        return flows

    # -- NetFlow v9 -------------------------------------------------------------------------
    def _netflow9(self, packet: bytes, exporter: str) -> list[Flow]:
        if len(packet) < 20:
            self.stats.bad(f"{exporter}: NetFlow v9 header truncated")
            return []
        _v, _count, uptime_ms, unix_secs, _seq, source_id = struct.unpack_from("!HHIIII", packet)
        flows: list[Flow] = []
        for set_id, body in self._sets(packet[20:], exporter):
            if set_id == 0:
                self._templates(body, exporter, source_id, ipfix=False)
            elif set_id == 1:
                self._options_templates(body, exporter, source_id, ipfix=False)
            elif set_id >= 256:
                flows += self._data(body, (exporter, source_id, set_id), unix_secs, (uptime_ms, unix_secs))
            else:
                self.stats.bad(f"{exporter}: reserved NetFlow v9 flowset id {set_id}")
        return flows

    # -- shared -----------------------------------------------------------------------------
    def _sets(self, data: bytes, exporter: str) -> list[tuple[int, bytes]]:
        sets: list[tuple[int, bytes]] = []
        offset = 0
        while offset + 4 <= len(data):
            set_id, set_len = struct.unpack_from("!HH", data, offset)
            if set_len < 4 or offset + set_len > len(data):
                self.stats.bad(f"{exporter}: set {set_id} claims {set_len} bytes, {len(data) - offset} left")
                break
            sets.append((set_id, data[offset + 4 : offset + set_len]))
            offset += set_len
        return sets

    def _templates(self, body: bytes, exporter: str, domain: int, ipfix: bool) -> None:
        offset = 0
        while offset + 4 <= len(body):
            template_id, count = struct.unpack_from("!HH", body, offset)
            offset += 4
            if template_id == 0 and count == 0:
                break  # padding
            if template_id >= 256 and count == 0 and ipfix:  # withdrawal (RFC 7011 8.1)
                self.templates.pop((exporter, domain, template_id), None)
                continue
            if template_id < 256 or count == 0:
                self.stats.bad(f"{exporter}: template {template_id} with {count} fields")
                return
            fields: Template = []
            for _ in range(count):
                ie, length = struct.unpack_from("!HH", body, offset)
                offset += 4
                if ipfix and ie & 0x8000:  # enterprise-specific: skip its enterprise number
                    offset += 4
                    ie = -1
                fields.append((ie, length))
            if offset > len(body):
                self.stats.bad(f"{exporter}: template {template_id} truncated")
                return
            if not self._room((exporter, domain, template_id)):
                return
            self.templates[(exporter, domain, template_id)] = fields
            self.options.discard((exporter, domain, template_id))
            self.stats.templates += 1

    def _options_templates(self, body: bytes, exporter: str, domain: int, ipfix: bool) -> None:
        """Options templates: remembered only so that their data sets are known for what they are.
        IPFIX (RFC 7011 3.4.2.2): id, field count, scope field count, then field specifiers.
        NetFlow v9 (RFC 3954 6.1): id, scope length and option length in bytes, then fields."""
        offset = 0
        while offset + 6 <= len(body):
            template_id, first, second = struct.unpack_from("!HHH", body, offset)
            offset += 6
            if template_id < 256:
                break  # padding (NetFlow v9 pads flowsets to 32 bits)
            if ipfix:
                for _ in range(first):
                    ie = struct.unpack_from("!H", body, offset)[0]
                    offset += 8 if ie & 0x8000 else 4
            else:
                offset += first + second
            if offset > len(body):
                self.stats.bad(f"{exporter}: options template {template_id} truncated")
                return
            key = (exporter, domain, template_id)
            if not self._room(key):
                return
            self.options.add(key)
            self.templates.pop(key, None)
            self.stats.options_templates += 1

    def _room(self, key: tuple[str, int, int]) -> bool:
        if key in self.templates or key in self.options:
            return True
        if len(self.templates) + len(self.options) < MAX_TEMPLATES:
            return True
        self.stats.bad(f"{key[0]}: more than {MAX_TEMPLATES} templates; template {key[2]} ignored")
        return False

    def _data(
        self,
        body: bytes,
        key: tuple[str, int, int],
        export_secs: int,
        nf9_clock: tuple[int, int] | None,
    ) -> list[Flow]:
        if key in self.options:
            self.stats.options += 1
            return []
        template = self.templates.get(key)
        if template is None:
            self.stats.without_template += 1
            return []
        fixed = (
            0
            if any(length == VARIABLE_LENGTH for _ie, length in template)
            else sum(length for _ie, length in template)
        )
        flows: list[Flow] = []
        offset = 0
        while offset < len(body):
            if fixed and len(body) - offset < fixed:
                break  # padding at the end of the set
            values: dict[int, bytes] = {}
            for ie, length in template:
                if length == VARIABLE_LENGTH:
                    length = body[offset]
                    offset += 1
                    if length == 255:
                        length = struct.unpack_from("!H", body, offset)[0]
                        offset += 2
                if offset + length > len(body):
                    if not fixed:
                        self.stats.bad(f"{key[0]}: record overruns set {key[2]}")
                    return flows
                values[ie] = body[offset : offset + length]
                offset += length
            made = _flow(values, export_secs, nf9_clock)
            if made is None:
                self.stats.ignored += 1
            elif not _plausible(made[0]):
                self.stats.absurd += 1
            else:
                self.stats.records += 1
                self.stats.times_dropped += made[1]
                flows.append(made[0])
        return flows


def _uint(raw: bytes | None) -> int | None:
    return int.from_bytes(raw, "big") if raw else None


def _addr(values: dict[int, bytes], v4: int, v6: int) -> str | None:
    if len(values.get(v4, b"")) == 4:
        return str(ipaddress.IPv4Address(values[v4]))
    if len(values.get(v6, b"")) == 16:
        addr = ipaddress.IPv6Address(values[v6])
        return str(addr.ipv4_mapped) if addr.ipv4_mapped else addr.compressed
    return None


def _time(secs: int | None) -> datetime | None:
    try:
        return datetime.fromtimestamp(secs, UTC) if secs else None
    except (OverflowError, OSError, ValueError):
        return None  # beyond year 9999: no usable time


def _plausible(flow: Flow) -> bool:
    if flow.bytes > MAX_COUNTER or flow.packets > MAX_COUNTER:
        return False
    return not (flow.first_seen and flow.last_seen and flow.last_seen < flow.first_seen)


def _oriented(flow: Flow) -> Flow:
    """The record turned client -> service when its own ports say it is a reply."""
    if flow.src_port is None or flow.dst_port is None:
        return flow
    if service_end(flow.src_port, flow.dst_port) == 0:
        flow.src_ip, flow.dst_ip = flow.dst_ip, flow.src_ip
        flow.src_port, flow.dst_port = flow.dst_port, flow.src_port
    return flow


def _flow(
    values: dict[int, bytes], export_secs: int, nf9_clock: tuple[int, int] | None
) -> tuple[Flow, int] | None:
    """The record's flow and how many of its times were unusable (beyond year 9999), or None
    when it has no source or destination address."""
    src, dst = _addr(values, SRC_V4, SRC_V6), _addr(values, DST_V4, DST_V6)
    if src is None or dst is None:
        return None
    proto_num = _uint(values.get(PROTOCOL))
    src_port, dst_port = _uint(values.get(SRC_PORT)), _uint(values.get(DST_PORT))
    seconds = _seconds(values, export_secs, nf9_clock)
    start, end = _time(seconds[0]), _time(seconds[1])
    dropped = sum(1 for secs, when in zip(seconds, (start, end), strict=True) if secs and when is None)
    ported = proto_num in (6, 17, 132)
    octets = next((_uint(values.get(ie)) for ie in OCTETS if ie in values), None)
    packets = next((_uint(values.get(ie)) for ie in PACKETS if ie in values), None)
    flow = Flow(
        src_ip=src,
        dst_ip=dst,
        dst_port=dst_port if ported else None,
        protocol=PROTOCOLS.get(proto_num or 0, str(proto_num)),
        bytes=octets or 0,
        packets=packets or 0,
        connections=1,
        first_seen=start,
        last_seen=end,
        src_port=src_port if ported else None,
    )
    return flow, dropped


def _seconds(
    values: dict[int, bytes], export_secs: int, nf9_clock: tuple[int, int] | None
) -> tuple[int | None, int | None]:
    """The record's start and end in Unix seconds (None: not given)."""
    if START_MS in values or END_MS in values:
        start_ms, end_ms = _uint(values.get(START_MS)), _uint(values.get(END_MS))
        return (start_ms // 1000 if start_ms else None), (end_ms // 1000 if end_ms else None)
    if START_S in values or END_S in values:
        return _uint(values.get(START_S)), _uint(values.get(END_S))
    if nf9_clock and (NF9_FIRST_SWITCHED in values or NF9_LAST_SWITCHED in values):
        uptime_ms, unix_secs = nf9_clock
        first, last = _uint(values.get(NF9_FIRST_SWITCHED)), _uint(values.get(NF9_LAST_SWITCHED))
        return (
            unix_secs - (uptime_ms - first) // 1000 if first is not None else None,
            unix_secs - (uptime_ms - last) // 1000 if last is not None else None,
        )
    return export_secs, export_secs
