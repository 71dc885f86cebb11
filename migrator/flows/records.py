"""The flow record every source is turned into, and its aggregation key."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from migrator.bounds import MAX_COUNTER, saturating_add

COUNTERS = ("bytes", "packets", "connections")
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
    src_port: int | None = None  # raw records only (deciding direction and sessions); never stored
    clamped: frozenset[str] = frozenset()  # counters whose sum was capped at 2^63-1; never stored

    def key(self) -> tuple[str | None, str | None, int | None, str, str | None, str | None]:
        return (self.src_ip, self.dst_ip, self.dst_port, self.protocol, self.src_name, self.dst_name)

    def describe(self) -> str:
        """`client -> service:port/protocol`, by address or, failing that, server name."""
        port = "" if self.dst_port is None else f":{self.dst_port}"
        return f"{self.src_ip or self.src_name} -> {self.dst_ip or self.dst_name}{port}/{self.protocol}"


class Counted(Protocol):
    """Something that sums counters (a flow, a session): `clamped` names those capped at 2^63-1."""

    clamped: frozenset[str]


def add_counters(into: Counted, other: Flow, names: tuple[str, ...] = COUNTERS) -> None:
    """Add other's counters into `into`, saturating at 2^63-1 (what the store holds). A counter
    the cap cut, or one `other` carries already cut, is named in `into.clamped`: a capped value is
    a changed value, counted and reported with the flow set (ReadResult.count_clamped)."""
    for name in names:
        total, cut = saturating_add(getattr(into, name), getattr(other, name))
        setattr(into, name, total)
        if cut:
            into.clamped |= {name}
    into.clamped |= other.clamped


def check_counters(flow: Flow) -> None:
    """Counters the store can hold, and a window that does not end before it starts."""
    for name in ("bytes", "packets", "connections"):
        value = getattr(flow, name)
        if not 0 <= value <= MAX_COUNTER:
            raise FlowValueError(f"{name} {value} outside 0..2^63-1")
    if flow.first_seen and flow.last_seen and flow.last_seen < flow.first_seen:
        raise FlowValueError(
            f"last_seen {flow.last_seen.isoformat()} precedes first_seen {flow.first_seen.isoformat()}"
        )


class Aggregator:
    """Sums counters per (src, dst, port, protocol) as flows arrive, saturating at 2^63 - 1 (what
    the store holds; see add_counters), keeping the widest first/last seen: memory follows
    distinct flows, not rows."""

    def __init__(self) -> None:
        self.merged: dict[tuple[object, ...], Flow] = {}

    def add(self, flow: Flow) -> None:
        key = flow.key()
        have = self.merged.get(key)
        if have is None:
            self.merged[key] = Flow(
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
                clamped=flow.clamped,
            )
            return
        add_counters(have, flow)
        have.first_seen = earliest(have.first_seen, flow.first_seen)
        have.last_seen = latest(have.last_seen, flow.last_seen)
        if flow.process and not have.process:
            have.process = flow.process

    def flows(self) -> list[Flow]:
        return sorted(self.merged.values(), key=lambda f: tuple(str(part) for part in f.key()))


def aggregate(flows: Iterable[Flow]) -> list[Flow]:
    """Flows summed per (src, dst, port, protocol): see Aggregator."""
    merged = Aggregator()
    for flow in flows:
        merged.add(flow)
    return merged.flows()


def earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else min(a, b)


def latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return b if a is None else a if b is None else max(a, b)


@dataclass
class ReadResult:
    """What a reader produced: flows plus an honest count of what it could not use or changed."""

    flows: list[Flow]
    malformed: int = 0
    warnings: list[str] = field(default_factory=list)
    digest: str = ""  # sha256 of what was read: the same evidence is not imported twice
    clamped: int = 0  # counter values of the stored flows capped at 2^63-1 (see count_clamped)

    def count_clamped(self, listed: int = 3) -> None:
        """Count the counters (bytes, packets, connections of each flow) whose sum was capped at
        2^63-1 and say so in one warning line naming the first flows: the stored values are lower
        than what the evidence adds up to. Called once the flows are final."""
        hit = [f for f in self.flows if f.clamped]
        self.clamped = sum(len(f.clamped) for f in hit)
        if not hit:
            return
        named = "; ".join(f"{f.describe()} {'/'.join(sorted(f.clamped))}" for f in hit[:listed])
        more = f" and {len(hit) - listed} more flow(s)" if len(hit) > listed else ""
        self.warnings.append(
            f"{self.clamped} counter(s) in {len(hit)} flow(s) summed past 2^63-1 and were capped "
            f"there (stored lower than the evidence adds up to): {named}{more}"
        )

    def warn(self, message: str, limit: int = 20) -> None:
        self.malformed += 1
        if len(self.warnings) < limit:
            self.warnings.append(message)
        elif len(self.warnings) == limit:
            self.warnings.append("... further problems not listed")
