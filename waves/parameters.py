"""Everything a plan can be tuned by, with the defaults docs/waves.md explains."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from migrator.errors import UsageError

# Usable share of a replication link (protocol overhead, other traffic): a planning assumption.
LINK_EFFICIENCY = 0.8
DEFAULT_BANDWIDTH_MBPS = 1000.0  # for replication-hour estimates when no budget is given


@dataclass(frozen=True)
class PlanParameters:
    max_vms: int = 50
    max_disks: int | None = 500
    max_storage_gb: float | None = None
    bandwidth_mbps: float | None = None
    window_hours: float | None = None
    max_per_host: int | None = 10
    target: str = "aws"
    couple_gb_per_day: float = 1.0  # traffic above this ties two VMs into one move group
    shared_min_clients: int = 25  # a server with this many distinct client VMs is a shared service
    pilot_vms: int = 5  # 0: no pilot wave
    mix_environments: bool = False
    complex_vms: int = 20  # an application this large counts as complex (not early)
    complex_external: int = 5  # ...as does one talking to this many external endpoints
    app_keys: tuple[str, ...] = ("app", "application")
    env_keys: tuple[str, ...] = ("env", "environment")
    tier_keys: tuple[str, ...] = ("tier", "role")
    criticality_keys: tuple[str, ...] = ("criticality", "business-criticality")
    shared_services: tuple[str, ...] = ()  # VM names always treated as shared services
    seed: int = 7

    def __post_init__(self) -> None:
        if self.max_vms < 1:
            raise UsageError("{max_vms} must be at least 1", field="max_vms")
        for name in ("max_disks", "max_storage_gb", "bandwidth_mbps", "window_hours", "max_per_host"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise UsageError("{" + name + "} must be positive", field=name)
        if (self.bandwidth_mbps is None) != (self.window_hours is None):
            raise UsageError(
                "{bandwidth_mbps} and {window_hours} go together", field=("bandwidth_mbps", "window_hours")
            )
        if self.max_storage_gb is not None and self.bandwidth_mbps is not None:
            raise UsageError(
                "give {max_storage_gb} or {bandwidth_mbps}/{window_hours}, not both",
                field=("max_storage_gb", "bandwidth_mbps", "window_hours"),
            )
        if self.target not in ("aws", "azure", "gcp", "kubevirt"):
            raise UsageError(f"{{target}} {self.target!r}: use aws, azure, gcp or kubevirt", field="target")
        if self.couple_gb_per_day <= 0 or self.shared_min_clients < 2 or self.pilot_vms < 0:
            raise UsageError("coupling threshold, shared-service clients and pilot size must be sensible")

    @property
    def storage_budget_gb(self) -> float | None:
        """Per-wave data budget: a storage cap, or what the link replicates in the window."""
        if self.max_storage_gb is not None:
            return self.max_storage_gb
        if self.bandwidth_mbps is not None and self.window_hours is not None:
            return self.bandwidth_mbps * LINK_EFFICIENCY * 3600 * self.window_hours / 8 / 1000
        return None

    def replication_hours(self, gigabytes: float) -> float:
        mbps = self.bandwidth_mbps or DEFAULT_BANDWIDTH_MBPS
        return gigabytes * 8 * 1000 / (mbps * LINK_EFFICIENCY) / 3600

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}
