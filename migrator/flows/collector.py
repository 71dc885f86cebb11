"""A UDP collector for IPFIX / NetFlow v9 exports (for instance a vSphere Distributed Switch)."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from migrator.errors import UsageError
from migrator.flows.ipfix import DecodeStats, FlowDecoder
from migrator.flows.records import Flow, aggregate

MAX_DATAGRAM = 65535
AGGREGATE_EVERY = 50_000


@dataclass
class Collected:
    flows: list[Flow]
    stats: DecodeStats
    seconds: float
    stopped_early: bool = False
    exporters: set[str] = field(default_factory=set)


def parse_listen(text: str) -> tuple[str, int]:
    """`host:port`, `[v6]:port` or `:port` (all IPv4 interfaces)."""
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(
            f"{{listen}} {text!r}: expected HOST:PORT, for example 127.0.0.1:4739", field="listen"
        )
    return host.strip("[]") or "0.0.0.0", int(port)


def collect(
    listen: tuple[str, int],
    duration: float,
    max_packets: int | None = None,
    on_ready: Callable[[str], None] | None = None,
) -> Collected:
    host, port = listen
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    decoder = FlowDecoder()
    flows: list[Flow] = []
    exporters: set[str] = set()
    started = time.monotonic()
    deadline = started + duration
    stopped_early = False
    try:
        if on_ready:
            on_ready(f"{host}:{sock.getsockname()[1]}")
        while (remaining := deadline - time.monotonic()) > 0:
            if max_packets is not None and decoder.stats.packets >= max_packets:
                break
            sock.settimeout(min(remaining, 0.5))
            try:
                packet, addr = sock.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            exporters.add(addr[0])
            flows += decoder.decode(packet, addr[0])
            if len(flows) > AGGREGATE_EVERY:  # a busy switch: keep memory bounded by distinct flows
                flows = aggregate(flows)
    except KeyboardInterrupt:
        stopped_early = True  # keep what arrived: every stored record is complete
    finally:
        sock.close()
    return Collected(aggregate(flows), decoder.stats, time.monotonic() - started, stopped_early, exporters)
