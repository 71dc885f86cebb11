"""Security groups from observed flows: one group per application tier in the wave, ingress only
on the ports and from the peers actually seen.

A peer in the same wave is referenced by its group; a VM elsewhere (earlier or later wave, still
on premises) or an external address by its /32 (or /128). A port is opened to the whole
internet only when it is one of the allowed internet ports and enough distinct public clients
were observed on it; the guardrail policies check the result independently. `collapsed` joins
a port's observed peer addresses into the fewest CIDR blocks that hold exactly those addresses
(a block only where every address in it was observed), for targets whose rule takes one block.
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass

from migrator.diagnostics import Diagnostic
from transpilers.model import TargetOptions, VMInput, WaveInput
from waves.edits import PortRule
from waves.graph import EXTERNAL_PREFIX

WORLD_V4 = "0.0.0.0/0"


@dataclass(frozen=True, order=True)
class IngressRule:
    group: str  # tier key of the receiving group
    protocol: str
    port: int
    peer_group: str | None  # tier key of a group in the same wave
    cidr: str | None
    last_port: int | None = None  # a port range's end (plan edits); None: the one port
    why: str = "observed"  # "observed" (flows) | "edited" (a plan edit)


def tier_key(vm: VMInput) -> str:
    return f"{vm.app or 'vm'}-{vm.tier or 'all'}"


def _cidr(address: str) -> str | None:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    return f"{ip}/{ip.max_prefixlen}"


def _is_public(cidr: str) -> bool:
    return ipaddress.ip_network(cidr).is_global


def ingress_rules(
    wave: WaveInput, placed: dict[str, VMInput], options: TargetOptions
) -> tuple[list[IngressRule], list[Diagnostic]]:
    rules: set[IngressRule] = set()
    notes: list[Diagnostic] = []
    public: dict[tuple[str, str, int], set[str]] = defaultdict(set)
    for t in wave.traffic:
        server = placed.get(t.server)
        if server is None:
            continue
        group = tier_key(server)
        for port_text in t.ports:
            protocol, _, number = port_text.partition("/")
            if protocol not in ("tcp", "udp") or not number.isdigit():
                continue
            port = int(number)
            client = placed.get(t.client)
            if client is not None:  # same-group traffic needs its rule too: a group does not admit itself
                rules.add(IngressRule(group, protocol, port, tier_key(client), None))
                continue
            cidrs = [c for c in (_cidr(ip) for ip in t.client_ips) if c]
            if not cidrs:
                notes.append(
                    Diagnostic(
                        "transpiler",
                        "TF-PEER-WITHOUT-ADDRESS",
                        "warning",
                        "main.tf",
                        None,
                        f"traffic to {t.server} on {port_text} from "
                        f"{t.client.removeprefix(EXTERNAL_PREFIX)!r} "
                        "has no IP address; no rule written",
                        t.server,
                    )
                )
            for cidr in cidrs:
                if t.client.startswith(EXTERNAL_PREFIX) and _is_public(cidr):
                    public[(group, protocol, port)].add(cidr)
                else:
                    rules.add(IngressRule(group, protocol, port, None, cidr))
    for (group, protocol, port), sources in public.items():
        if port in options.internet_ports and len(sources) >= options.internet_min_sources:
            rules.add(IngressRule(group, protocol, port, None, WORLD_V4))
        else:
            rules.update(IngressRule(group, protocol, port, None, c) for c in sources)
    return sorted(rules, key=lambda r: (r.group, r.protocol, r.port, r.peer_group or "", r.cidr or "")), notes


def collapsed(rules: list[IngressRule]) -> list[IngressRule]:
    """The rules with each (group, protocol, port)'s observed address rules joined into the fewest
    CIDR blocks that admit exactly the same addresses (10.0.0.4/32 .. 10.0.0.7/32 -> 10.0.0.4/30;
    never an address that was not observed), written where the first of them was, in the order
    `ingress_rules` gives (by text). A shared service (DNS, syslog, a directory) is reached from
    most of the estate: one rule per peer wrote 10,000 rules into one wave of a 10,000-VM plan
    (4.9 MB of main.tf, far over a security group's rule quota). Group references, port ranges
    and edited rules are kept as they are."""

    def key(rule: IngressRule) -> tuple[str, str, int] | None:
        if rule.cidr is None or rule.last_port is not None or rule.why != "observed":
            return None
        return (rule.group, rule.protocol, rule.port)

    addresses: dict[tuple[str, str, int], list[str]] = {}
    for rule in rules:
        if (k := key(rule)) is not None:
            addresses.setdefault(k, []).append(str(rule.cidr))
    out: list[IngressRule] = []
    for rule in rules:
        k = key(rule)
        if k is None:
            out.append(rule)
        elif k in addresses:  # the first rule of its port: all its blocks, then none of the others
            group, protocol, port = k
            out += [IngressRule(group, protocol, port, None, cidr) for cidr in _blocks(addresses.pop(k))]
    return out


def _blocks(cidrs: list[str]) -> list[str]:
    """The fewest blocks holding exactly these networks' addresses, sorted as text."""
    v4 = [n for n in map(ipaddress.ip_network, cidrs) if isinstance(n, ipaddress.IPv4Network)]
    v6 = [n for n in map(ipaddress.ip_network, cidrs) if isinstance(n, ipaddress.IPv6Network)]
    joined = [*ipaddress.collapse_addresses(v4), *ipaddress.collapse_addresses(v6)]
    return sorted(str(block) for block in joined)


def edited_rules(rules: list[IngressRule], edits: tuple[PortRule, ...]) -> list[IngressRule]:
    """The rules after the wave's port-rule edits, in order: `add` writes one rule for the range,
    `remove` drops every rule between the two ends whose port lies in the range."""
    result = list(rules)
    for edit in edits:
        cidr = str(ipaddress.ip_network(edit.cidr)) if edit.cidr else None
        if edit.action == "add":
            last = edit.to_port if edit.to_port != edit.from_port else None
            rule = IngressRule(
                edit.group, edit.protocol, edit.from_port, edit.peer_group, cidr, last, "edited"
            )
            same = (rule.group, rule.protocol, rule.port, rule.peer_group, rule.cidr, rule.last_port)
            result = [
                r for r in result if (r.group, r.protocol, r.port, r.peer_group, r.cidr, r.last_port) != same
            ]
            result.append(rule)
            continue
        result = [
            r
            for r in result
            if not (
                r.group == edit.group
                and r.protocol == edit.protocol
                and (r.peer_group, r.cidr) == (edit.peer_group, cidr)
                and edit.from_port <= r.port <= edit.to_port
            )
        ]
    return result
