"""Move groups: VMs that must share a wave, joined by the `together` rules (union-find)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from waves.rules import Link


class UnionFind:
    def __init__(self, items: Iterable[str]) -> None:
        self.parent = {item: item for item in items}

    def find(self, item: str) -> str:
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:  # path compression
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> bool:
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        if rb < ra:  # the smaller name is the root: deterministic
            ra, rb = rb, ra
        self.parent[rb] = ra
        return True

    def groups(self) -> list[list[str]]:
        members: dict[str, list[str]] = defaultdict(list)
        for item in self.parent:
            members[self.find(item)].append(item)
        return sorted((sorted(m) for m in members.values()), key=lambda m: m[0])


def join(uf: UnionFind, links: Iterable[Link], kept: list[Link]) -> None:
    """Apply links between known VMs; keep each link for the rationale."""
    for link in links:
        if link.a in uf.parent and link.b in uf.parent:
            uf.union(link.a, link.b)
            kept.append(link)
