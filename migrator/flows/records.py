"""The flow record every source is turned into, and its aggregation key."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

PROTOCOLS = {1: "icmp", 6: "tcp", 17: "udp", 58: "icmpv6", 132: "sctp"}
_PROTOCOL_NAMES = {name: name for name in PROTOCOLS.values()} | {"ipv6-icmp": "icmpv6"}


class FlowValueError(ValueError):
    """One value of one record is unusable; the record is counted as malformed."""


def normalise_ip(text: str) -> str:
    """Canonical text form; IPv4-mapped IPv6 becomes IPv4 so both spellings meet the inventory."""
    try:
        addr = ipaddress.ip_address(text.strip())
    except ValueError:
        raise FlowValueError(f"not an IP address: {text.strip()[:60]!r}") from None
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return addr.compressed


def normalise_protocol(value: str | int) -> str:
    text = str(value).strip().lower()
    if text.isdigit():
        return PROTOCOLS.get(int(text), text)
    if text in _PROTOCOL_NAMES:
        return _PROTOCOL_NAMES[text]
    raise FlowValueError(f"unknown protocol {str(value)[:20]!r}")


def normalise_port(value: str | int | None) -> int | None:
    if value is None or str(value).strip() == "":
        return None
    try:
        port = int(str(value).strip())
    except ValueError:
        raise FlowValueError(f"port is not a number: {str(value)[:20]!r}") from None
    if not 0 <= port <= 65535:
        raise FlowValueError(f"port out of range: {port}")
    return port


@dataclass(slots=True)
class Flow:
    """Traffic from a client (src) to a service (dst_ip:dst_port/protocol)."""

    src_ip: str | None
    dst_ip: str | None
    dst_port: int | None
    protocol: str
    bytes: int = 0
    packets: int = 0
    connections: int = 1
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    src_name: str | None = None
    dst_name: str | None = None
    process: str | None = None

    def key(self) -> tuple[str | None, str | None, int | None, str, str | None, str | None]:
        return (self.src_ip, self.dst_ip, self.dst_port, self.protocol, self.src_name, self.dst_name)


def aggregate(flows: Iterable[Flow]) -> list[Flow]:
    """Sum counters per (src, dst, port, protocol); keep the widest first/last seen."""
    merged: dict[tuple[object, ...], Flow] = {}
    for flow in flows:
        key = flow.key()
        have = merged.get(key)
        if have is None:
            merged[key] = Flow(
                flow.src_ip,
                flow.dst_ip,
                flow.dst_port,
                flow.protocol,
                flow.bytes,
                flow.packets,
                flow.connections,
                flow.first_seen,
                flow.last_seen,
                flow.src_name,
                flow.dst_name,
                flow.process,
            )
            continue
        have.bytes += flow.bytes
        have.packets += flow.packets
        have.connections += flow.connections
        have.first_seen = _earliest(have.first_seen, flow.first_seen)
        have.last_seen = _latest(have.last_seen, flow.last_seen)
        if flow.process and not have.process:
            have.process = flow.process
    return sorted(merged.values(), key=lambda f: tuple(str(part) for part in f.key()))


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class ReadResult:
    """What a reader produced: flows plus an honest count of what it could not use."""

    flows: list[Flow]
    malformed: int = 0
    warnings: list[str] = field(default_factory=list)
    digest: str = ""  # sha256 of what was read: the same evidence is not imported twice

    def warn(self, message: str, limit: int = 20) -> None:
        self.malformed += 1
        if len(self.warnings) < limit:
            self.warnings.append(message)
        elif len(self.warnings) == limit:
            self.warnings.append("... further problems not listed")
