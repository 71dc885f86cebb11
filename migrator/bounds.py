"""The largest values an inventory or flow field can truly have, and checks against them.

Readers bound every number they take from a file, so an absurd value (memory_mb of 10^30, a
byte count above 2^63) becomes a counted warning or a bad-input error, never a KubeVirt
manifest, an OverflowError or a database error. Provenance (docs/limits.md):
- VM sizes: VMware vSphere 8.0 Configuration Maximums (configmax.broadcom.com): 768 virtual
  CPUs and 24 TB of memory per VM, 62 TB per virtual disk; ESXi 8.0 hosts: 896 logical CPUs,
  24 TB of memory.
- Traffic counters: IPFIX octet/packet counters are unsigned64 (RFC 7012), but the store keeps
  them as signed 64-bit BigInteger (SQLite INTEGER, PostgreSQL bigint): 2^63 - 1 at most, and
  sums saturate there (each saturated value is counted and reported: docs/flows.md).
- Ports: 0-65535 (RFC 793/768).
"""

from __future__ import annotations

import math

MAX_VCPU = 768
MAX_MEMORY_MB = 24 * 1024 * 1024  # 24 TB
MAX_DISK_GB = 62 * 1024  # 62 TB
MAX_DISK_MB = MAX_DISK_GB * 1024
MAX_HOST_CPUS = 896
MAX_HOST_MEMORY_GB = 24 * 1024
MAX_STORAGE_GB = 2**40  # a datastore or a sum of disks: far above any real one, far below overflow
MAX_COUNTER = 2**63 - 1  # what a signed 64-bit column holds


def within(value: float, low: float, high: float) -> bool:
    return math.isfinite(value) and low <= value <= high


def saturating_add(a: int, b: int) -> tuple[int, bool]:
    """a + b, but never above what the store can hold, and whether the cap cut it: a capped
    value is a changed value, so callers record it (migrator.flows.records.Counted)."""
    total = a + b
    return (MAX_COUNTER, True) if total > MAX_COUNTER else (total, False)
