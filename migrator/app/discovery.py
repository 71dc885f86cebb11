"""Discovery as a use case: one vCenter read (strictly read-only) into a new snapshot. The CLI
runs it here; a queued job (migrator.app.job_tasks) runs the same request on a worker."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from migrator.app.snapshots import SnapshotResult, record_snapshot
from migrator.app.workspace import Workspace
from migrator.errors import UsageError
from migrator.secrets import Secret
from migrator.store.inventory import Inventory
from migrator.vcenter.address import parse_server
from migrator.vcenter.connection import ConnectionParams, TLSOptions
from migrator.vcenter.discovery import DiscoveryOptions, ProgressFn
from migrator.vcenter.discovery import discover as run_discovery


@dataclass(frozen=True)
class DiscoverRequest:
    """What to read and how; never the password itself (a queued job stores this as its args)."""

    server: str
    user: str
    insecure: bool = False
    thumbprint: str | None = None
    ca_file: str | None = None
    perf_days: float = 7.0
    workers: int | None = None
    timeout: float = 120.0
    history: bool = False  # keep every sample in the utilisation history (schedule-discovery)

    def __post_init__(self) -> None:
        parse_server(self.server)  # first: a URL carrying credentials is refused before anything is read
        if self.insecure and self.thumbprint:
            raise UsageError(
                "{insecure} and {thumbprint} exclude each other: a pinned thumbprint is verified",
                field=("insecure", "thumbprint"),
            )

    @property
    def display(self) -> str:
        """The vCenter as snapshots name it (the discovery lock of a job is keyed on it)."""
        return parse_server(self.server).display

    def as_args(self) -> dict[str, Any]:
        return asdict(self)


def discover(
    ws: Workspace, request: DiscoverRequest, password: Secret, progress: ProgressFn | None = None
) -> SnapshotResult:
    """Read the vCenter and store it as one snapshot (one transaction; a failure is recorded)."""
    address = parse_server(request.server)
    tls = TLSOptions(request.insecure, request.thumbprint, Path(request.ca_file) if request.ca_file else None)
    params = ConnectionParams(address, request.user, password, tls, request.timeout)
    options = DiscoveryOptions(request.perf_days, request.workers, history=request.history)
    read_ones: list[Inventory] = []

    def read() -> Inventory:
        inventory = (
            run_discovery(params, options) if progress is None else run_discovery(params, options, progress)
        )
        read_ones.append(inventory)
        return inventory

    result = record_snapshot(ws, "vcenter", address.display, read, what="discovery")
    if request.history and read_ones:
        keep_history(ws, result.snapshot_id, read_ones[0])
    return result


def keep_history(ws: Workspace, snapshot_id: int, inventory: Inventory) -> int:
    """Add a discovery's samples to the utilisation history, keyed by its vCenter's instance
    UUID (docs/scale.md#utilisation-history). A vCenter that names no UUID keeps none: its VMs
    could not be told from another vCenter's."""
    if not inventory.source_uuid:
        return 0
    return ws.history.add(snapshot_id, inventory.source_uuid, inventory.history)
