"""Running the pack: source policies over inventory records, IaC policies over generated code."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
from collections import Counter
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from functools import cache
from threading import Condition, Lock
from typing import Any

from migrator.diagnostics import Diagnostic
from policies.registry import (
    DIAGNOSTIC_SEVERITY,
    SEVERITIES,
    Policy,
    evaluate_findings,
    named_in_pack,
    policies,
    scoped_findings,
)


@dataclass(frozen=True, order=True)
class Finding:
    vm: str
    policy: str  # id
    severity: str  # critical | warning | info
    title: str
    message: str
    vsphere_path: str
    meaning: str  # what it means for the chosen target

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _by_package(family: str) -> dict[str, Policy]:
    return {p.name: p for p in policies(family)}


# From this many VMs the estate is split into parts that this process and worker processes
# (one per further core, MAX_WORKERS processes at most) evaluate at once: rego-cpp runs on one
# core, and a finding depends on its own VM only (with the clusters and the target, which every
# part gets whole). Below it, a worker's start-up (about a second, once per process) would cost
# more than it saves. PARTS_PER_PROCESS parts a process let a worker that starts late (spawned,
# compiling the pack) take fewer of them, rather than this process waiting for its half.
PARALLEL_FROM = 2000
MAX_WORKERS = 4
PARTS_PER_PROCESS = 4
MIN_PART = 500  # VMs: each part repeats the clusters' input and each policy's per-query setup
# At most this many VMs per query: a worker keeps the memory its largest query took (about 40 kB
# per VM in rego-cpp and Python's heaps, not given back), and the pool outlives the evaluation,
# beside the code generation that follows (halves of 10,000 VMs left 277 MB workers, parts of
# 1,000 154 MB). Each part repeats the clusters' input and the DRS-rule lookups, which grow with
# the estate: 50,000 VMs in parts of 1,000 took 25.7 s cold (load 1.1), in parts of 5,000 19.8 s.
PART_VMS = 5000


@dataclass(frozen=True)
class KnownFindings:
    """An earlier evaluation a new one may reuse: each VM's fact digest then (names that were
    unique in it only), the clusters' digest, and a reader of its findings by VM name."""

    digests: dict[str, str]
    clusters: str
    findings: Callable[[list[str]], list[Finding]]


def fact_digests(vms: Iterable[dict[str, Any]]) -> dict[str, str]:
    """VM name -> digest of the facts the pack reads, for names that occur once."""
    named, records = named_in_pack("source"), list(vms)
    counts = Counter(vm["name"] for vm in records)
    return {vm["name"]: _digest(_named_fields(vm, named)) for vm in records if counts[vm["name"]] == 1}


def clusters_digest(clusters: list[dict[str, Any]]) -> str:
    return _digest(clusters)


def _digest(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def source_findings(
    vms: list[dict[str, Any]],
    clusters: list[dict[str, Any]],
    target: str | None = None,
    known: KnownFindings | None = None,
) -> list[Finding]:
    """Every source policy over the VMs; `target` picks the meaning text (and target limits).

    The estate is one input per part (at most PART_VMS VMs, shared by this process and its
    workers): each policy is an array comprehension over `input.vms` (docs/policies.md, "How the
    input reaches the engine"), and each VM carries only the fields the pack names
    (`registry.named_in_pack`). A finding depends on its own VM, the clusters and the target
    only, so with `known` (an earlier evaluation of the same target and pack) a VM whose facts
    and name are unchanged takes its findings from there."""
    if known is None or known.clusters != clusters_digest(clusters):
        return _evaluate_all(vms, clusters, target)
    digests = fact_digests(vms)
    same = [name for name, digest in digests.items() if known.digests.get(name) == digest]
    unchanged = set(same)
    changed = [vm for vm in vms if vm["name"] not in unchanged]
    found = set(known.findings(same)) | set(_evaluate_all(changed, clusters, target) if changed else [])
    return sorted(found, key=_order)


def _order(f: Finding) -> tuple[str, int, str, str]:
    return (f.vm, SEVERITIES.index(f.severity), f.policy, f.message)


def _evaluate_all(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], target: str | None
) -> list[Finding]:
    named = named_in_pack("source")
    slim = [_named_fields(vm, named) for vm in vms]
    results: dict[str, list[Any]] = {}
    for part in _evaluate_parts(slim, clusters, target or "any"):
        for name, found in part.items():
            results.setdefault(name, []).extend(found)
    found_set: set[Finding] = set()
    for policy in policies("source"):
        meaning = (policy.metadata.get("targets") or {}).get(target or "", "")
        found_set.update(_finding(policy, f, meaning) for f in results.get(policy.name, []))
    return sorted(found_set, key=_order)


def evaluate_part(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], target: str
) -> dict[str, list[Any]]:
    """The source pack's findings over some VMs (run in this process or in a worker)."""
    return evaluate_findings("source", {"target": target, "vms": vms, "clusters": clusters})


def _evaluate_parts(
    vms: list[dict[str, Any]], clusters: list[dict[str, Any]], target: str
) -> list[dict[str, list[Any]]]:
    processes = min(MAX_WORKERS, os.cpu_count() or 1)
    if len(vms) < PARALLEL_FROM or processes < 2:
        return [evaluate_part(vms, clusters, target)]
    size = min(PART_VMS, max(MIN_PART, -(-len(vms) // (processes * PARTS_PER_PROCESS))))
    parts = [vms[start : start + size] for start in range(0, len(vms), size)]
    share = _Share(parts, _pool(processes - 1), clusters, target)
    for _ in range(processes - 1):
        share.feed()
    return share.results()


class _Share:
    """The parts of one evaluation: each worker is handed the first part left when it has none
    (one at a time: the pool queues a submitted part where it can no longer be taken back, which
    left a worker one part more than this process), this process takes the last ones."""

    def __init__(
        self,
        parts: list[list[dict[str, Any]]],
        pool: ProcessPoolExecutor,
        clusters: list[dict[str, Any]],
        target: str,
    ) -> None:
        self.parts, self.pool, self.clusters, self.target = parts, pool, clusters, target
        self.lock = Condition()
        self.first, self.last = 0, len(parts)  # parts[first:last] are left
        self.sent: dict[int, Future[dict[str, list[Any]]] | None] = {}  # None: the pool refused it

    def feed(self, _done: Future[dict[str, list[Any]]] | None = None) -> None:
        """Hand a worker the first part left (also called as a part's future completes)."""
        with self.lock:
            if self.first >= self.last:
                return
            index = self.first
            self.first += 1
        future: Future[dict[str, list[Any]]] | None
        try:
            future = self.pool.submit(evaluate_part, self.parts[index], self.clusters, self.target)
        except Exception:  # a broken or shut down pool (a worker died): this process answers it
            future = None
        with self.lock:
            self.sent[index] = future
            self.lock.notify_all()
        if future is not None:
            future.add_done_callback(self.feed)

    def _take_last(self) -> int | None:
        with self.lock:
            if self.first >= self.last:
                return None
            self.last -= 1
            return self.last

    def results(self) -> list[dict[str, list[Any]]]:
        """This process's parts, then the workers' (a part a dead worker held is answered here)."""
        out = []
        while (index := self._take_last()) is not None:
            out.append(evaluate_part(self.parts[index], self.clusters, self.target))
        with self.lock:
            self.lock.wait_for(lambda: len(self.sent) == self.first)
            sent = sorted(self.sent.items())
        for index, future in sent:
            try:
                if future is None:
                    raise BrokenProcessPool(f"part {index} was not taken")
                out.append(future.result())
            except BrokenProcessPool:  # a worker died (killed, out of memory): answer here
                _new_pool.cache_clear()
                out.append(evaluate_part(self.parts[index], self.clusters, self.target))
        return out


_POOL_LOCK = Lock()  # the dashboard's threads may ask at once: one pool per process


def _pool(workers: int) -> ProcessPoolExecutor:
    with _POOL_LOCK:
        return _new_pool(workers)


@cache
def _new_pool(workers: int) -> ProcessPoolExecutor:
    """Worker processes kept for the life of this one, each with its compiled pack. Spawned, not
    forked: the dashboard evaluates in a thread of a process holding sockets and locks."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"), initializer=_warm)


def _warm() -> None:
    """A worker compiles the pack as it starts (once: the pool is kept)."""
    evaluate_part([], [], "any")


def _named_fields(vm: dict[str, Any], named: frozenset[str]) -> dict[str, Any]:
    """The VM with only the fields the pack names, and so for each object in a list it holds (its
    disks, its NICs); values below that are kept whole (a policy may print one with %v)."""
    out = {}
    for key, value in vm.items():
        if key not in named:
            continue
        if isinstance(value, list):
            value = [{k: v for k, v in x.items() if k in named} if isinstance(x, dict) else x for x in value]
        out[key] = value
    return out


def _finding(policy: Policy, f: dict[str, Any], meaning: str) -> Finding:
    return Finding(
        str(f["vm"]),
        policy.id,
        policy.severity,
        str(policy.metadata["title"]),
        str(f["message"]),
        str(policy.metadata.get("vsphere_path", "")),
        meaning,
    )


def blocking(findings: Iterable[Finding]) -> dict[str, list[str]]:
    """VM -> its critical findings: these VMs are left out of the generated code."""
    out: dict[str, list[str]] = {}
    for f in findings:
        if f.severity == "critical":
            out.setdefault(f.vm, []).append(f"{f.policy}: {f.message}")
    return out


def iac_diagnostics(policy_input: dict[str, Any], scopes: tuple[str, ...] | None = None) -> list[Diagnostic]:
    """The IaC guardrails' findings; only the guardrails of `scopes` run when it is given."""
    by_package = _by_package("iac")
    out = []
    for package, found in scoped_findings("iac", policy_input, scopes).items():
        policy = by_package.get(package)
        if policy is None:
            continue
        for f in found:
            out.append(
                Diagnostic(
                    "policy",
                    policy.id,
                    DIAGNOSTIC_SEVERITY[policy.severity],
                    str(f.get("file", "")),
                    f.get("line"),
                    str(f["message"]),
                    str(f.get("resource", "")),
                )
            )
    return sorted(set(out), key=lambda d: (d.file, d.resource, d.rule, d.message))
