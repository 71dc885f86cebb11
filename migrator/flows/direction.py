"""Which end of a conversation is the service, and how many sessions were seen (docs/flows.md).

A flow exporter writes one record per direction (and more for long sessions), so the raw
records neither say who the client is nor how many connections there were. Here records are
grouped into sessions (the two endpoints and the protocol: a record and its reply are one
session) and each session is turned so it runs client -> service, on this evidence, strongest
first:

1. a listed service port (SERVICE_PORTS) on exactly one end;
2. a system port (below 1024) on exactly one end;
3. an ephemeral-looking port on exactly one end (the other is the service): 32768 and above
   (Linux, IANA 49152+) or 1025-5000 (Windows before Vista/Server 2008, and later ones with
   the old `MaxUserPort` range);
4. fan-in: the end that talks to more distinct peers on the same port (a server's port sees
   every client and every client port; a client's ephemeral port sees one or two servers);
5. the end seen as a destination in more sessions (helps when an exporter sees one direction);
6. the lower port.

`connections` then counts sessions, not records.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from migrator.flows.records import Flow, add_counters, aggregate, earliest, latest

# Service ports seen in data centres (IANA registrations); used to tell a request from its reply.
SERVICE_PORTS = frozenset(
    {
        *(22, 25, 53, 80, 88, 111, 123, 135, 139, 389, 443, 445, 636),
        *(1433, 1521, 2049, 3268, 3306, 3389, 5432, 5672, 5985, 5986),
        *(6379, 8080, 8443, 9092, 9200, 11211, 27017),
    }
)
LEGACY_WINDOWS_EPHEMERAL = range(1025, 5001)
EPHEMERAL_FROM = 32768
MAX_SESSIONS = 2_000_000  # sessions kept in memory before they are folded into flows
_AGGREGATE_EVERY = 50_000

Endpoint = tuple[str | None, int | None]


def ephemeral_looking(port: int) -> bool:
    return port >= EPHEMERAL_FROM or port in LEGACY_WINDOWS_EPHEMERAL


def _one(a: bool, b: bool) -> int:
    """0 when only the first holds, 1 when only the second, -1 when it does not decide."""
    return 0 if a and not b else 1 if b and not a else -1


def service_end(a: int, b: int, peers: tuple[int, int] = (0, 0), as_dst: tuple[int, int] = (0, 0)) -> int:
    """0 when port a is the service, 1 when port b is (see the module docstring for the order)."""
    for decided in (
        _one(a in SERVICE_PORTS, b in SERVICE_PORTS),
        _one(a < 1024, b < 1024),
        _one(not ephemeral_looking(a), not ephemeral_looking(b)),
        0 if peers[0] > peers[1] else 1 if peers[1] > peers[0] else -1,
        0 if as_dst[0] > as_dst[1] else 1 if as_dst[1] > as_dst[0] else -1,
    ):
        if decided >= 0:
            return decided
    return 0 if a <= b else 1


@dataclass(slots=True)
class _Session:
    bytes: int = 0
    packets: int = 0
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    clamped: frozenset[str] = frozenset()  # counters capped at 2^63-1 (records.add_counters)


class SessionOrienter:
    """Collects raw records (Flow with src_port, as the exporter wrote them) and returns
    aggregated client -> service flows whose `connections` count sessions."""

    def __init__(self, max_sessions: int = MAX_SESSIONS) -> None:
        self.max_sessions = max_sessions
        self.folded: list[Flow] = []
        self._reset()

    def _reset(self) -> None:
        self.sessions: dict[tuple[Endpoint, Endpoint, str], _Session] = {}
        self.peers: dict[tuple[Endpoint, str], int] = defaultdict(int)
        self.as_dst: dict[tuple[Endpoint, str], int] = defaultdict(int)
        self.directed: set[tuple[Endpoint, Endpoint, str]] = set()

    def add(self, records: Iterable[Flow]) -> None:
        for rec in records:
            if rec.src_port is None or rec.dst_port is None:
                self.folded.append(rec)  # no ports (ICMP): nothing to turn, each record counts
                if len(self.folded) > _AGGREGATE_EVERY:
                    self.folded = aggregate(self.folded)
                continue
            src: Endpoint = (rec.src_ip, rec.src_port)
            dst: Endpoint = (rec.dst_ip, rec.dst_port)
            a, b = sorted((src, dst), key=str)
            key = (a, b, rec.protocol)
            session = self.sessions.get(key)
            if session is None:
                session = self.sessions[key] = _Session()
                self.peers[(a, rec.protocol)] += 1
                self.peers[(b, rec.protocol)] += 1
            if (src, dst, rec.protocol) not in self.directed:
                self.directed.add((src, dst, rec.protocol))
                self.as_dst[(dst, rec.protocol)] += 1
            add_counters(session, rec, ("bytes", "packets"))
            session.first_seen = earliest(session.first_seen, rec.first_seen)
            session.last_seen = latest(session.last_seen, rec.last_seen)
            if len(self.sessions) >= self.max_sessions:
                self._fold()

    def _fold(self) -> None:
        for (a, b, proto), session in self.sessions.items():
            end = service_end(
                a[1] or 0,
                b[1] or 0,
                (self.peers[(a, proto)], self.peers[(b, proto)]),
                (self.as_dst[(a, proto)], self.as_dst[(b, proto)]),
            )
            client, service = (b, a) if end == 0 else (a, b)
            self.folded.append(
                Flow(
                    client[0],
                    service[0],
                    service[1],
                    proto,
                    session.bytes,
                    session.packets,
                    1,
                    session.first_seen,
                    session.last_seen,
                    clamped=session.clamped,
                )
            )
        self.folded = aggregate(self.folded)
        self._reset()

    def flows(self) -> list[Flow]:
        self._fold()
        return self.folded


def merge_replies(flows: list[Flow]) -> tuple[list[Flow], int]:
    """For files without source ports (the generic CSV): rows a -> b:p and b -> a:q, where the
    evidence makes p the service and q looks ephemeral, are one conversation: the reply row is
    folded into the request row (counters added; connections: the larger, a row and its reply
    being the same sessions). Returns the flows and how many rows were folded."""
    by_pair: dict[tuple[str, str, str], list[Flow]] = defaultdict(list)
    fan_in: dict[tuple[str, int, str], set[str]] = defaultdict(set)
    for f in flows:
        if f.dst_port is not None and f.src_ip and f.dst_ip:
            by_pair[(f.src_ip, f.dst_ip, f.protocol)].append(f)
            fan_in[(f.dst_ip, f.dst_port, f.protocol)].add(f.src_ip)
    dropped: set[int] = set()
    for (a, b, proto), forward in by_pair.items():
        for f in forward:
            for r in by_pair.get((b, a, proto), []):
                if id(f) in dropped or id(r) in dropped:
                    continue
                p, q = f.dst_port or 0, r.dst_port or 0
                peers = (len(fan_in[(b, p, proto)]), len(fan_in[(a, q, proto)]))
                keep, fold = (
                    (f, r) if service_end(p, q, peers, (f.connections, r.connections)) == 0 else (r, f)
                )
                if not ephemeral_looking(fold.dst_port or 0):
                    continue  # a service on both sides: two real dependencies
                add_counters(keep, fold, ("bytes", "packets"))  # and keeps fold's capped counters
                keep.connections = max(keep.connections, fold.connections)
                keep.first_seen = earliest(keep.first_seen, fold.first_seen)
                keep.last_seen = latest(keep.last_seen, fold.last_seen)
                dropped.add(id(fold))
    return [f for f in flows if id(f) not in dropped], len(dropped)
