"""The discovery agent's deterministic core: vCenter -> one inventory snapshot.

The parent process logs in, reads the (small) infrastructure, tags and perf counter
catalogue, then lists the VMs' morefs and shares chunks of them between itself and worker
processes that join the same session (one per further core). Parsing SOAP responses for
devices is CPU-bound Python, so processes, not threads, are what makes 10,000 VMs fast.
"""

from __future__ import annotations

import contextlib
import http.client
import multiprocessing
import os
import pickle
import ssl
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_EXCEPTION, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from typing import Any

from pyVmomi import vim, vmodl

from migrator import interrupts
from migrator.errors import InterruptedRun, MigratorError, VCenterError
from migrator.store.inventory import Inventory
from migrator.vcenter import properties as P
from migrator.vcenter.connection import Connection, ConnectionParams, fault_message
from migrator.vcenter.infrastructure import Infrastructure, collect_infrastructure
from migrator.vcenter.mapping import Lookups, vm_record
from migrator.vcenter.perf import PerfPlan, plan_perf, query_perf
from migrator.vcenter.rawprops import retrieve_raw
from migrator.vcenter.retrieval import PAGE_SIZE, list_morefs, retrieve_objects
from migrator.vcenter.tags import TagsUnavailable, collect_tags

CHUNK = 500
PARALLEL_FROM = 1500  # below this, worker start-up costs more than it saves
WRITE_PRIVILEGES = [
    "VirtualMachine.Inventory.Delete",
    "VirtualMachine.Config.Settings",
    "VirtualMachine.Interact.PowerOff",
    "Host.Config.Maintenance",
    "Datastore.DeleteFile",
]

# Errors that mean the connection broke after login: the run is interrupted, not refused.
NETWORK_ERRORS: tuple[type[BaseException], ...] = (OSError, http.client.HTTPException, ssl.SSLError, EOFError)
AFTER_LOGIN_ERRORS: tuple[type[BaseException], ...] = (*NETWORK_ERRORS, vmodl.MethodFault)


@dataclass(frozen=True)
class DiscoveryOptions:
    perf_days: float = 7.0
    workers: int | None = None  # None: one per CPU core, when the estate is large enough
    history: bool = False  # keep every sample with its time (periodic discovery's history)
    typed_parse: bool = (
        False  # internal: pyvmomi's typed objects, the reference the fast path is tested against
    )


ProgressFn = Callable[[str, int, int], None]  # (phase, done, total)


def _silent(_phase: str, _done: int, _total: int) -> None:
    return None


def discover(
    params: ConnectionParams, options: DiscoveryOptions, progress: ProgressFn = _silent
) -> Inventory:
    conn = Connection.open(params)  # VCenterError (exit 3) when unreachable or refused
    try:
        return _discover(conn, params, options, progress)
    except AFTER_LOGIN_ERRORS as exc:
        raise interrupted(exc) from None
    finally:
        conn.close()


def interrupted(exc: BaseException) -> InterruptedRun:
    """What a failure after login means for the user: the run was interrupted (exit 4)."""
    if isinstance(exc, vmodl.MethodFault):
        return InterruptedRun(f"vCenter refused a read during discovery: {fault_message(exc)}")
    return InterruptedRun(f"connection to vCenter lost during discovery ({_describe(exc)})")


def _describe(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _discover(
    conn: Connection, params: ConnectionParams, options: DiscoveryOptions, progress: ProgressFn
) -> Inventory:
    content = conn.content
    warnings = privilege_warnings(content)
    refs = list_morefs(content, vim.VirtualMachine)
    with _worker_pool(conn, options, len(refs)) as pool:  # they start while the rest is read
        infra, plan, warnings = _read_estate(conn, params, options, progress, warnings)
        progress("vms", 0, len(refs))
        vms = _collect_vms(conn, refs, infra.lookups, plan, options, progress, pool)
    _resolve_rule_members(infra, vms)
    return _finish(infra, vms, warnings, content)


def _read_estate(
    conn: Connection,
    params: ConnectionParams,
    options: DiscoveryOptions,
    progress: ProgressFn,
    warnings: list[str],
) -> tuple[Infrastructure, PerfPlan | None, list[str]]:
    """Infrastructure, custom field names, tags and the perf plan: what mapping VMs needs."""
    content = conn.content
    progress("infrastructure", 0, 1)
    infra = collect_infrastructure(content)
    warnings += infra.warnings
    infra.lookups.custom_field_names = _custom_field_names(content)
    try:
        infra.lookups.tags = collect_tags(params)
    except TagsUnavailable as exc:
        warnings.append(f"tags not collected: {exc}")
    plan = plan_perf(content, options.perf_days)
    if options.perf_days > 0 and plan is None:
        warnings.append("no CPU/memory performance counters available: VMs have no utilisation data")
    if plan is not None and options.history:
        plan = replace(plan, keep_samples=True)
    return infra, plan, warnings


def _finish(infra: Infrastructure, vms: list[dict[str, Any]], warnings: list[str], content: Any) -> Inventory:
    vms.sort(key=lambda v: (v["name"], v["moref"]))
    history = {vm["moref"]: vm["perf"].pop("history") for vm in vms if "history" in (vm.get("perf") or {})}
    return Inventory(
        vms=vms,
        hosts=sorted(infra.hosts, key=lambda h: h["name"]),
        clusters=sorted(infra.clusters, key=lambda c: c["name"]),
        networks=sorted(infra.networks, key=lambda n: (n["name"], n["moref"])),
        datastores=sorted(infra.datastores, key=lambda d: d["name"]),
        warnings=warnings,
        source_uuid=getattr(content.about, "instanceUuid", None) or None,
        history=history,
    )


def privilege_warnings(content: Any) -> list[str]:
    """Warn when the discovery account could change vCenter: a read-only role is enough."""
    try:
        session = next(
            iter(
                retrieve_objects(
                    content, vim.SessionManager, [content.sessionManager._moId], ["currentSession"]
                )
            )
        )[2].get("currentSession")
        if session is None:
            raise AttributeError("no current session")
        result = content.authorizationManager.HasPrivilegeOnEntities(
            entity=[content.rootFolder], sessionId=session.key, privId=WRITE_PRIVILEGES
        )
    except (vmodl.MethodFault, StopIteration, AttributeError) as exc:
        return [f"could not check the account's privileges ({type(exc).__name__})"]
    held = sorted({p.privId for e in result or [] for p in e.privAvailability or [] if p.isGranted})
    if not held:
        return []
    return [
        f"the discovery account holds write privileges ({', '.join(held)}); migrator only reads, "
        "but a read-only role is recommended"
    ]


def _custom_field_names(content: Any) -> dict[int, str]:
    manager = content.customFieldsManager
    if manager is None:
        return {}
    for _ref, _obj, props in retrieve_objects(content, vim.CustomFieldsManager, [manager._moId], ["field"]):
        return {f.key: f.name for f in props.get("field") or []}
    return {}


def _resolve_rule_members(infra: Infrastructure, vms: list[dict[str, Any]]) -> None:
    names = {vm["moref"]: vm["name"] for vm in vms}
    for cluster in infra.clusters:
        for rule in cluster["drs_rules"]:
            rule["vms"] = sorted(names.get(ref, ref) for ref in rule.get("vms") or [])


# -- VM retrieval ------------------------------------------------------------------------------


def collect_chunk(
    conn: Connection, refs: list[str], lookups: Lookups, plan: PerfPlan | None, typed: bool = False
) -> list[dict[str, Any]]:
    paths = P.VM_PROPERTIES.values()
    pages: Iterator[tuple[str, dict[str, Any]]]
    if typed:
        pages = (
            (ref, props)
            for ref, _obj, props in retrieve_objects(conn.content, vim.VirtualMachine, refs, paths)
        )
    else:
        pages = retrieve_raw(conn.content, vim.VirtualMachine, refs, paths, PAGE_SIZE)
    records = [vm_record(ref, props, lookups, raw=not typed) for ref, props in pages]
    if plan is not None:
        live = [r["moref"] for r in records if r["power_state"] == "poweredOn" and not r["template"]]
        perf = query_perf(conn.content, live, plan) if live else {}
        for rec in records:
            rec["perf"] = perf.get(rec["moref"])
    return records


def _spawned(options: DiscoveryOptions, vm_count: int) -> int:
    """Worker processes to start: this process is one of the `workers`, none below PARALLEL_FROM."""
    workers = options.workers or min(os.cpu_count() or 1, 4)
    return workers - 1 if vm_count >= PARALLEL_FROM else 0


@contextlib.contextmanager
def _worker_pool(
    conn: Connection, options: DiscoveryOptions, vm_count: int
) -> Iterator[tuple[ProcessPoolExecutor, int] | None]:
    """The worker processes, started (and joined to the session) as soon as the VM count is
    known, so their interpreter start-up and imports overlap this process reading the
    infrastructure and tags; what mapping needs travels with each chunk."""
    spawned = _spawned(options, vm_count)
    if spawned < 1:
        yield None
        return
    context = multiprocessing.get_context("spawn")  # never fork a process holding live sockets
    initargs = (conn.params, conn.api_version, conn.session_cookie, options.typed_parse)
    with ProcessPoolExecutor(
        spawned, mp_context=context, initializer=_worker_init, initargs=initargs
    ) as pool:
        with interrupts.signals_held():  # workers start deaf to Ctrl-C: the parent stops them
            for _ in range(spawned):  # a task each makes the pool start every process now
                pool.submit(_worker_attach)
        yield pool, spawned


def _collect_vms(
    conn: Connection,
    refs: list[str],
    lookups: Lookups,
    plan: PerfPlan | None,
    options: DiscoveryOptions,
    progress: ProgressFn,
    pool: tuple[ProcessPoolExecutor, int] | None = None,
) -> list[dict[str, Any]]:
    chunks = [refs[i : i + CHUNK] for i in range(0, len(refs), CHUNK)]
    out: list[dict[str, Any]] = []
    if pool is None:
        for chunk in chunks:
            out += collect_chunk(conn, chunk, lookups, plan, options.typed_parse)
            progress("vms", len(out), len(refs))
        return out
    # This process takes chunks beside the spawned ones, so one interpreter fewer starts and
    # imports, and its records never cross a pipe.
    shared = pickle.dumps((lookups, plan))  # once: each task carries the same bytes
    results = _share_chunks(
        pool,
        chunks,
        shared,
        lambda chunk: collect_chunk(conn, chunk, lookups, plan, options.typed_parse),
        lambda done: progress("vms", done, len(refs)),
    )
    for part in results:
        out += part
    return out


QUEUED_PER_WORKER = 2  # one running, one waiting: a worker never idles while this process maps


def _share_chunks(
    pool: tuple[ProcessPoolExecutor, int],
    chunks: list[list[str]],
    shared: bytes,
    own: Callable[[list[str]], list[dict[str, Any]]],
    progress: Callable[[int], None],
) -> list[list[dict[str, Any]]]:
    """Each chunk's records, in chunk order. Workers are fed from the front, a few chunks ahead;
    this process takes chunks from the back, so the last ones go to whoever is free."""
    results: list[list[dict[str, Any]]] = [[] for _ in chunks]
    todo = list(range(len(chunks)))
    todo.reverse()  # pop() takes the front for the workers
    running: dict[Future[list[dict[str, Any]]], int] = {}
    done_count = 0
    executor, spawned = pool
    try:
        while todo or running:
            with interrupts.signals_held():  # workers start deaf to Ctrl-C: the parent stops them
                while todo and len(running) < spawned * QUEUED_PER_WORKER:
                    index = todo.pop()
                    running[executor.submit(_worker_chunk, chunks[index], shared)] = index
            if todo:
                index = todo.pop(0)
                results[index] = own(chunks[index])
                done_count += len(results[index])
            finished, _ = wait(running, timeout=0 if todo else None, return_when=FIRST_EXCEPTION)
            for fut in finished:
                results[running.pop(fut)] = records = fut.result()  # re-raises a worker's failure
                done_count += len(records)
            progress(done_count)
    except BrokenProcessPool:
        raise InterruptedRun("a discovery worker process died") from None
    except BaseException:
        for fut in running:
            fut.cancel()
        raise
    return results


_worker_state: dict[str, Any] = {}


def _worker_init(params: ConnectionParams, version: str, cookie: str, typed: bool = False) -> None:
    _worker_state["args"] = (params, version, cookie)
    _worker_state["typed"] = typed


def _worker_connection() -> Connection:
    conn = _worker_state.get("conn")
    if conn is None:
        try:
            conn = _worker_state["conn"] = Connection.attach(*_worker_state["args"])
        except VCenterError as exc:  # the parent is logged in: vCenter went away since
            raise InterruptedRun(f"connection to vCenter lost during discovery ({exc.message})") from None
    return conn


def _worker_attach() -> None:
    """Join the session ahead of the first chunk; a failure here is met again, and reported, there."""
    with contextlib.suppress(MigratorError, *AFTER_LOGIN_ERRORS):
        _worker_connection()


def _worker_chunk(refs: list[str], shared: bytes) -> list[dict[str, Any]]:
    """One chunk's records; `shared` is the pickled (lookups, perf plan), unpickled once."""
    try:
        if _worker_state.get("shared") != shared:
            _worker_state["lookups"], _worker_state["plan"] = pickle.loads(shared)
            _worker_state["shared"] = shared
        return collect_chunk(
            _worker_connection(),
            refs,
            _worker_state["lookups"],
            _worker_state["plan"],
            _worker_state["typed"],
        )
    except MigratorError:
        raise
    except AFTER_LOGIN_ERRORS as exc:
        raise interrupted(exc) from None
    except Exception as exc:  # anything else must still cross the process boundary as text
        raise VCenterError(f"discovery worker failed: {type(exc).__name__}: {exc}") from None
