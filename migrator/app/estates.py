"""Multi-vCenter estates (docs/scale.md#multi-vcenter-estates): the estate's vCenters, estate
snapshots (one complete snapshot per vCenter, combined) and the duplicates across vCenters.

Discovery of an estate is three steps, each its own transaction, so that a job runner can run
the middle one per vCenter on any machine, in any order, retried as often as needed:

    estate_snapshot_id = start_estate_snapshot(ws)                 # one pending member per vCenter
    discover_estate_vcenter(ws, estate_snapshot_id, "prod-vc-01")  # one vCenter -> its snapshot
    ...                                                            # the last one settles the estate

The call that settles the last member combines the members (migrator.app.estate_union) into
the estate snapshot (`complete`), or marks it `incomplete` naming the vCenters that failed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from migrator import interrupts
from migrator.app.estate_union import MemberInventory, combine, duplicates
from migrator.app.identities import Actor
from migrator.app.snapshots import SnapshotResult, record_snapshot
from migrator.app.workspace import Workspace
from migrator.errors import MigratorError, NotFound, UsageError
from migrator.secrets import read_password
from migrator.store.estates import member_dict
from migrator.store.inventory import INVENTORY_KINDS, Inventory
from migrator.store.models import EstateMember, EstateVCenter
from migrator.store.snapshots import COMPLETE, ESTATE, INCOMPLETE, INTERRUPTED, now
from migrator.vcenter.address import parse_server

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,62}")
Progress = Callable[[str, int, int], None]  # (phase, done, total), as discovery reports it
_ENV = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")


@dataclass(frozen=True)
class VCenterDefinition:
    """What `estate add` stores: where the password is read, never the password."""

    name: str
    server: str
    user: str
    password_env: str | None = None
    password_file: Path | None = None
    insecure: bool = False
    thumbprint: str | None = None
    ca_file: Path | None = None


def add_vcenter(ws: Workspace, d: VCenterDefinition, actor: Actor | None = None) -> dict[str, Any]:
    from migrator.app.audit import record

    _check_definition(d)
    row = EstateVCenter(
        name=d.name,
        server=d.server,
        username=d.user,
        password_env=d.password_env,
        password_file=str(d.password_file.expanduser().absolute()) if d.password_file else None,
        insecure=d.insecure,
        thumbprint=d.thumbprint,
        ca_file=str(d.ca_file.expanduser().absolute()) if d.ca_file else None,
        created_at=now(),
    )
    added = ws.estates.add(row)
    record(ws, actor, "estate.add", f"vcenter:{d.name}", {"server": d.server, "user": d.user})
    return added


def _check_definition(d: VCenterDefinition) -> None:
    if not _NAME.fullmatch(d.name):
        raise UsageError(
            f"vCenter name {d.name[:100]!r}: use 1-63 letters, digits, '.', '_' or '-', starting with "
            "a letter or digit (it becomes part of VM names that collide across vCenters)"
        )
    if bool(d.password_env) == bool(d.password_file):
        raise UsageError(
            "give exactly one of {password_env} VAR or {password_file} PATH: an estate never stores "
            "a password, only where to read it",
            field=("password_env", "password_file"),
        )
    if d.password_env and not _ENV.fullmatch(d.password_env):
        raise UsageError(
            f"{{password_env}} {d.password_env[:100]!r}: the NAME of an environment variable, not a password",
            field="password_env",
        )
    if d.insecure and d.thumbprint:
        raise UsageError("--insecure and --thumbprint exclude each other: a pinned thumbprint is verified")
    parse_server(d.server)  # a bad URL is refused now, not at discovery


def remove_vcenter(ws: Workspace, name: str, actor: Actor | None = None) -> dict[str, Any]:
    """Forget a vCenter; its earlier snapshots stay (they are history)."""
    from migrator.app.audit import record

    removed = ws.estates.remove(name)
    record(ws, actor, "estate.remove", f"vcenter:{name}", {"server": removed["server"]})
    return removed


def list_vcenters(ws: Workspace) -> list[dict[str, Any]]:
    return ws.estates.list()


# -- discovery -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DiscoverySettings:
    """How each vCenter is read (as `discover`'s options)."""

    perf_days: float = 7.0
    workers: int | None = None
    timeout: float = 120.0


@dataclass(frozen=True)
class EstateSnapshotState:
    estate_snapshot_id: int
    status: str  # running | complete | incomplete
    members: list[dict[str, Any]]
    vm_count: int = 0
    duplicates: int = 0

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [m for m in self.members if m["status"] not in ("complete", "pending", "running")]


@dataclass(frozen=True)
class VCenterOutcome:
    """What one vCenter's discovery into an estate snapshot did."""

    vcenter: str
    status: str  # complete | failed | interrupted
    snapshot_id: int | None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    settled: EstateSnapshotState | None = None  # set when this call settled the estate snapshot


def start_estate_snapshot(ws: Workspace) -> int:
    """A running estate snapshot with one pending member per vCenter of the estate."""
    vcenters = ws.estates.list()
    if not vcenters:
        raise UsageError("the estate has no vCenters: add them with `migrator estate add NAME --server ...`")
    return ws.estates.start(vcenters)


def discover_estate_vcenter(
    ws: Workspace,
    estate_snapshot_id: int,
    vcenter: str,
    settings: DiscoverySettings | None = None,
    progress: Progress | None = None,
) -> VCenterOutcome:
    """Discover one vCenter of estate snapshot `estate_snapshot_id` into its own snapshot: the
    unit a job runner queues. A failure of that vCenter (unreachable, refused login, password
    not readable, connection lost) is recorded on the member and returned, not raised; Ctrl-C is
    recorded, then raised. Idempotent: a member already complete is not discovered again. The
    call that settles the last member combines the estate snapshot (`outcome.settled`)."""
    member = ws.estates.member(estate_snapshot_id, vcenter)
    if member.status == COMPLETE:
        return VCenterOutcome(
            vcenter, COMPLETE, member.snapshot_id, settled=settle_estate_snapshot(ws, estate_snapshot_id)
        )
    assert member.id is not None
    ws.estates.mark(member.id, status="running", error=None, snapshot_id=None)
    try:
        result, uuid = _discover_member(ws, member, settings or DiscoverySettings(), progress)
    except MigratorError as exc:
        status = INTERRUPTED if interrupts.received() else "failed"
        ws.estates.mark(member.id, status=status, error=exc.message[:2000])
        if interrupts.received():
            raise
        return VCenterOutcome(
            vcenter, status, None, exc.message, settled=settle_estate_snapshot(ws, estate_snapshot_id)
        )
    ws.estates.mark(member.id, status=COMPLETE, snapshot_id=result.snapshot_id, instance_uuid=uuid)
    settled = settle_estate_snapshot(ws, estate_snapshot_id)
    return VCenterOutcome(vcenter, COMPLETE, result.snapshot_id, None, result.warnings, settled)


def _discover_member(
    ws: Workspace, member: EstateMember, settings: DiscoverySettings, progress: Progress | None
) -> tuple[SnapshotResult, str]:
    from migrator.vcenter.connection import ConnectionParams, TLSOptions
    from migrator.vcenter.discovery import DiscoveryOptions, discover

    d = member.definition
    uuid: list[str] = []

    def read() -> Inventory:
        address = parse_server(d["server"])
        file = Path(d["password_file"]) if d.get("password_file") else None
        password = read_password(d.get("password_env"), d["user"], file)
        ca = Path(d["ca_file"]) if d.get("ca_file") else None
        tls = TLSOptions(bool(d.get("insecure")), d.get("thumbprint"), ca)
        params = ConnectionParams(address, d["user"], password, tls, settings.timeout)
        options = DiscoveryOptions(settings.perf_days, settings.workers)
        inventory = discover(params, options, progress) if progress else discover(params, options)
        uuid.append(inventory.source_uuid or "")
        return inventory

    origin = f"{member.vcenter}: {d['server']}"
    result = record_snapshot(ws, "vcenter", origin, read, what=f"discovery of {member.vcenter}")
    return result, uuid[0] if uuid else ""


def settle_estate_snapshot(ws: Workspace, estate_snapshot_id: int) -> EstateSnapshotState | None:
    """Once every member is settled, combine them (all complete) or mark the estate snapshot
    incomplete; exactly one caller does it, whichever process settled the last member. None
    while members are pending, or when another caller already settled it."""
    if not ws.estates.claim(estate_snapshot_id):
        return None
    try:
        return _settle_claimed(ws, estate_snapshot_id)
    except BaseException:
        ws.estates.release(estate_snapshot_id)  # an error or a stop mid-combine: the next settle retries
        raise


def _settle_claimed(ws: Workspace, estate_snapshot_id: int) -> EstateSnapshotState:
    members = ws.estates.members(estate_snapshot_id)
    failed = [m for m in members if m.status != COMPLETE]
    if failed:
        which = "; ".join(f"{m.vcenter} ({m.status}: {(m.error or '')[:300]})" for m in failed)
        ws.store.fail(estate_snapshot_id, INCOMPLETE, f"vCenters that did not complete: {which}")
        return estate_state(ws, estate_snapshot_id)
    parts = [
        MemberInventory(m.vcenter, m.instance_uuid or "", _inventory(ws, m.snapshot_id)) for m in members
    ]
    ws.store.commit(estate_snapshot_id, combine(parts))
    return estate_state(ws, estate_snapshot_id)


def _inventory(ws: Workspace, snapshot_id: int | None) -> Inventory:
    assert snapshot_id is not None
    store = ws.store
    inventory = Inventory(warnings=list(store.get(snapshot_id).warnings or []))
    for kind in INVENTORY_KINDS:
        setattr(inventory, kind, list(store.records(snapshot_id, kind)))
    return inventory


def estate_state(ws: Workspace, estate_snapshot_id: int) -> EstateSnapshotState:
    snap = ws.store.get(estate_snapshot_id)
    if snap.source != ESTATE:
        raise NotFound(f"snapshot {estate_snapshot_id} is not an estate snapshot")
    members = [member_dict(m) for m in ws.estates.members(estate_snapshot_id)]
    found = len(estate_duplicates(ws, estate_snapshot_id)) if snap.status == COMPLETE else 0
    return EstateSnapshotState(estate_snapshot_id, snap.status, members, snap.vm_count, found)


def discover_estate(
    ws: Workspace, settings: DiscoverySettings | None = None, progress: Progress | None = None
) -> tuple[list[VCenterOutcome], EstateSnapshotState]:
    """Every vCenter of the estate, one after the other, in this process (`discover --estate`)."""
    estate_snapshot_id = start_estate_snapshot(ws)
    outcomes = []
    try:
        for member in ws.estates.members(estate_snapshot_id):
            outcomes.append(
                discover_estate_vcenter(ws, estate_snapshot_id, member.vcenter, settings, progress)
            )
    except (MigratorError, KeyboardInterrupt):
        ws.store.fail(estate_snapshot_id, INTERRUPTED, "interrupted: the estate snapshot did not finish")
        raise
    state = next((o.settled for o in outcomes if o.settled), None) or estate_state(ws, estate_snapshot_id)
    return outcomes, state


# -- duplicates ----------------------------------------------------------------------------------


def latest_estate_snapshot(ws: Workspace, before: int | None = None) -> int | None:
    """The newest complete estate snapshot (older than `before`, if given)."""
    for snap in reversed(ws.store.list()):
        if snap.source == ESTATE and snap.status == COMPLETE and (before is None or (snap.id or 0) < before):
            return snap.id
    return None


def estate_duplicates(ws: Workspace, estate_snapshot_id: int | None = None) -> list[dict[str, Any]]:
    """The duplicates of an estate snapshot (the latest complete one by default): the same VM in
    several vCenters, clones sharing a BIOS UUID, VMs moved since the previous estate snapshot."""
    sid = estate_snapshot_id if estate_snapshot_id is not None else latest_estate_snapshot(ws)
    if sid is None:
        raise NotFound("no complete estate snapshot yet: run `migrator discover --estate`")
    snap = ws.store.get(sid)
    if snap.source != ESTATE or snap.status != COMPLETE:
        raise NotFound(
            f"snapshot {sid} is not a complete estate snapshot (it is {snap.source}, {snap.status})"
        )
    previous = latest_estate_snapshot(ws, before=sid)
    old = list(ws.store.records(previous, "vms")) if previous is not None else []
    return duplicates(list(ws.store.records(sid, "vms")), old)
