"""The wave's dependency diagram as a Mermaid flowchart.

Node ids are generated (`n1`, `n2`, ...); names only appear inside quoted labels, where every
character outside a small safe set is written as a Mermaid entity code (`#60;`), so a name can
neither end the label, start a comment (`%%`), inject a directive or markdown string, nor carry
HTML. Lines are joined by migrator, never taken from the inventory, so the block cannot break.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from transpilers.escape import one_line

MAX_NODES = 60
_SAFE = re.compile(r"[\w .\-:/()]", re.UNICODE)


def label(text: str, limit: int = 60) -> str:
    """A quoted Mermaid label for any text."""
    value = one_line(text, limit)
    return '"' + "".join(ch if _SAFE.fullmatch(ch) else f"#{ord(ch)};" for ch in value) + '"'


@dataclass
class Diagram:
    """Nodes grouped in subgraphs, and labelled edges between them."""

    groups: dict[str, list[str]] = field(default_factory=dict)  # subgraph title -> node names
    edges: list[tuple[str, str, str]] = field(default_factory=list)  # (from, to, label)
    highlight: str | None = None  # the subgraph of this wave

    def render(self) -> str:
        ids: dict[str, str] = {}
        lines = ["flowchart LR"]
        for g, (title, names) in enumerate(self.groups.items(), start=1):
            lines.append(f"  subgraph g{g}[{label(title)}]")
            for name in names:
                if name in ids or len(ids) >= MAX_NODES:
                    continue
                ids[name] = f"n{len(ids) + 1}"
                lines.append(f"    {ids[name]}[{label(name)}]")
            lines.append("  end")
        for src, dst, text in self.edges:
            if src in ids and dst in ids:
                arrow = f"-->|{label(text, 40)}|" if text else "-->"
                lines.append(f"  {ids[src]} {arrow} {ids[dst]}")
        if self.highlight in self.groups:
            g = list(self.groups).index(self.highlight) + 1
            lines.append(f"  style g{g} stroke-width:3px")
        return "\n".join(lines) + "\n"

    @property
    def truncated(self) -> bool:
        return len({n for names in self.groups.values() for n in names}) > MAX_NODES
