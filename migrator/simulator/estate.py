"""Estate files (fixtures/estates/*.yaml): what a seeded simulator must contain."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from migrator.simulator.launcher import Topology


@dataclass(frozen=True)
class Estate:
    raw: dict[str, Any]

    @classmethod
    def load(cls, path: Path) -> Estate:
        with path.open(encoding="utf-8") as fh:
            return cls(yaml.safe_load(fh))

    @property
    def clusters(self) -> list[str]:
        return list(self.raw["clusters"])

    @property
    def vms(self) -> list[dict[str, Any]]:
        return list(self.raw.get("vms") or [])

    @property
    def portgroups(self) -> list[dict[str, Any]]:
        return list(self.raw.get("portgroups") or [])

    def vm(self, name: str) -> dict[str, Any]:
        return next(v for v in self.vms if v["name"] == name)

    def topology(self) -> Topology:
        per_cluster = Counter(vm["cluster"] for vm in self.vms)
        return Topology(
            datacenters=1,
            clusters=len(self.clusters),
            hosts_per_cluster=int(self.raw.get("hosts_per_cluster", 3)),
            vms_per_pool=max(1, max(per_cluster.values(), default=1)),
            portgroups=1,
            datastores=1,
        )

    @staticmethod
    def generated(vms: int, clusters: int = 10) -> Topology:
        """A plain large estate (benchmarks): vcsim's own VMs, `vms` in all."""
        return Topology(clusters=clusters, hosts_per_cluster=3, vms_per_pool=math.ceil(vms / clusters))
