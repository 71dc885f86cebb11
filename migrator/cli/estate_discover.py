"""`migrator discover --estate`: every vCenter of the estate, reported one line each."""

from __future__ import annotations

from rich.console import Console

from migrator.app.estates import DiscoverySettings, VCenterOutcome, discover_estate, latest_estate_snapshot
from migrator.app.workspace import Workspace
from migrator.cli.progress import discovery_progress
from migrator.cli.summary import print_snapshot_summary
from migrator.errors import Incomplete, UsageError


def discover_estate_cmd(
    ws: Workspace,
    perf_days: float,
    workers: int | None,
    timeout: float,
    connection_options: bool = False,
    queue: bool = False,
) -> None:
    """Exit 0 when the estate snapshot is complete; 7 (stored but incomplete) naming the vCenters
    that failed, while the previous complete estate snapshot stays the planning default."""
    if connection_options:
        raise UsageError(
            "--estate reads each vCenter's server and credentials from the estate "
            "(`migrator estate list`): drop --server, --user and the password and TLS options"
        )
    settings = DiscoverySettings(perf_days, workers, timeout)
    if queue:
        _queue(ws, settings)
        return
    err = Console(stderr=True, highlight=False)
    with discovery_progress() as progress:
        outcomes, state = discover_estate(ws, settings, progress)
    _print_outcomes(err, outcomes)
    if state.status != "complete":
        failed = ", ".join(m["vcenter"] for m in state.failed)
        default = latest_estate_snapshot(ws)
        keeps = (
            f"estate snapshot {default} stays the planning default"
            if default is not None
            else "there is no complete estate snapshot yet"
        )
        raise Incomplete(
            f"estate snapshot {state.estate_snapshot_id} is incomplete: {failed} did not complete; {keeps}"
        )
    vms = list(ws.store.records(state.estate_snapshot_id, "vms"))
    print_snapshot_summary(ws.store, state.estate_snapshot_id, vms)
    if state.duplicates:
        err.print(
            f"{state.duplicates} possible duplicate(s) across vCenters: see `migrator estate duplicates`",
            markup=False,
        )


def _queue(ws: Workspace, settings: DiscoverySettings) -> None:
    from migrator.app.jobs import queue_estate_discovery
    from migrator.cli.discover_cmd import print_enqueued

    print_enqueued(queue_estate_discovery(ws, settings))


def _print_outcomes(err: Console, outcomes: list[VCenterOutcome]) -> None:
    for o in outcomes:
        where = f"snapshot {o.snapshot_id}" if o.snapshot_id else _escape(o.error or "")
        err.print(f"{o.vcenter}: {o.status}: {where}", markup=False)
        for line in o.warnings:
            err.print(f"  warning: {line}", markup=False)


def _escape(text: str) -> str:
    return text.replace("\n", " ")[:300]
