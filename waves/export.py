"""Writing the dependency graph in formats other tools open: GraphML (Gephi, yEd), JSON, DOT."""

from __future__ import annotations

import io
import json
from typing import Any

import networkx as nx

from waves.graph import DependencyGraph

FORMATS = ("graphml", "json", "dot")


def _flat(graph: DependencyGraph) -> nx.DiGraph:
    """A copy whose attributes are scalars (GraphML and DOT cannot hold lists)."""
    flat = nx.DiGraph()
    for node, data in graph.g.nodes(data=True):
        flat.add_node(node, **{k: v for k, v in data.items() if v is not None})
    for u, v, data in graph.g.edges(data=True):
        flat.add_edge(
            u,
            v,
            depends=bool(data["depends"]),
            bytes=int(data["bytes"]),
            connections=int(data["connections"]),
            ports=" ".join(data["ports"]),
            kinds=" ".join(sorted({e["kind"] for e in data["evidence"]})),
            confidence=float(data["confidence"]),
            evidence=json.dumps(data["evidence"], ensure_ascii=False),
        )
    return flat


def to_json(graph: DependencyGraph) -> dict[str, Any]:
    return {
        "nodes": [{"id": n, **d} for n, d in sorted(graph.g.nodes(data=True))],
        "edges": [{"source": u, "target": v, **d} for u, v, d in sorted(graph.g.edges(data=True))],
        "anti_affinity": graph.anti_affinity,
        "affinity": graph.affinity,
        "stats": graph.stats,
    }


def to_graphml(graph: DependencyGraph) -> str:
    buf = io.BytesIO()
    nx.write_graphml(_flat(graph), buf, encoding="utf-8")
    return buf.getvalue().decode("utf-8")


def _dot_id(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "")
    return f'"{escaped}"'


def to_dot(graph: DependencyGraph) -> str:
    lines = ["digraph dependencies {", "  rankdir=LR;", "  node [shape=box, fontsize=10];"]
    for node, data in sorted(graph.g.nodes(data=True)):
        shape = ", shape=ellipse, style=dashed" if data.get("kind") == "external" else ""
        label = f"{node}\n{data['app']}" if data.get("app") else node
        lines.append(f"  {_dot_id(node)} [label={_dot_id(label)}{shape}];")
    for u, v, data in sorted(graph.g.edges(data=True)):
        kinds = sorted({e["kind"] for e in data["evidence"]})
        label = " ".join(data["ports"][:3]) or "/".join(kinds)
        style = "" if data["depends"] else ", style=dashed, dir=none"
        lines.append(f"  {_dot_id(u)} -> {_dot_id(v)} [label={_dot_id(label)}{style}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render(graph: DependencyGraph, fmt: str) -> str:
    if fmt == "json":
        return json.dumps(to_json(graph), indent=2, ensure_ascii=False, default=str) + "\n"
    if fmt == "graphml":
        return to_graphml(graph)
    return to_dot(graph)
