"""Which disk bus (and NIC model) a guest can boot with after a CDI VDDK import (docs/plan.md,
"Disk bus and guest conversion").

CDI copies the VMware disk as it is: nothing installs virtio drivers or rebuilds the initramfs
(virt-v2v would; a VDDK DataVolume does not). A guest booted from a `virtio` disk without a
virtio block driver in its boot path stops at INACCESSIBLE_BOOT_DEVICE (Windows) or in the
dracut emergency shell (Linux), and Windows has no virtio NIC driver either. So the boot disk
goes on `sata` (AHCI, which Windows ships a driver for and Linux kernels carry) unless the
guest is known to have virtio drivers: the `--virtio-drivers` option, a `virtio-drivers`
custom attribute or tag saying so, or a guest family whose stock initramfs carries them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

YES = frozenset({"yes", "true", "installed", "1", "y"})
MARKER = "virtio-drivers"  # custom attribute name or tag category (case-insensitive)
# initramfs-tools (Debian, Ubuntu) builds with MODULES=most by default: virtio_blk is in it.
_INITRAMFS_TOOLS = ("debian", "ubuntu")
# dracut builds host-only images by default: only the drivers of the VMware disk are in them.
_DRACUT = ("rhel", "centos", "oracle", "sles", "suse", "fedora", "rocky", "alma", "amazon", "asianux")


@dataclass(frozen=True)
class DiskPlan:
    family: str  # "windows" | "linux-dracut" | "linux-initramfs-tools" | "other"
    boot_bus: str  # "virtio" | "sata"
    data_bus: str
    why: str  # one line for REPORT.md: the choice and what the guest needs before/after import
    nic_model: str | None = None  # None: KubeVirt's default (virtio); e1000e where no virtio driver


def family(record: dict[str, Any]) -> str:
    guest = str(record.get("guest_id") or "").lower()
    text = f"{guest} {str(record.get('guest_os') or '').lower()}"
    if guest.startswith("win") or "windows" in text:
        return "windows"
    if any(guest.startswith(p) for p in _INITRAMFS_TOOLS):
        return "linux-initramfs-tools"
    if any(guest.startswith(p) for p in _DRACUT):
        return "linux-dracut"
    return "other"


def declared_virtio(record: dict[str, Any]) -> bool:
    """The inventory says the guest has virtio drivers (custom attribute or tag `virtio-drivers`)."""
    for key, value in (record.get("custom_fields") or {}).items():
        if str(key).strip().lower() == MARKER and str(value).strip().lower() in YES:
            return True
    for tag in record.get("tags") or []:
        category, _, value = str(tag).partition(":")
        if category.strip().lower() == MARKER and value.strip().lower() in YES:
            return True
    return False


def disk_plan(record: dict[str, Any], virtio_drivers: bool) -> DiskPlan:
    fam = family(record)
    if virtio_drivers or declared_virtio(record):
        source = "--virtio-drivers" if virtio_drivers else f"the inventory ({MARKER})"
        return DiskPlan(
            fam, "virtio", "virtio", f"all disks virtio: {source} says the guest has virtio drivers"
        )
    if fam == "windows":
        return DiskPlan(
            fam,
            "sata",
            "sata",
            "all disks sata, NICs e1000e (inbox drivers); after import install virtio-win (viostor, "
            "vioscsi, netkvm), then switch to virtio",
            "e1000e",
        )
    if fam == "linux-initramfs-tools":
        return DiskPlan(
            fam,
            "virtio",
            "virtio",
            "all disks virtio: initramfs-tools carries virtio_blk by default (MODULES=most); with "
            "MODULES=dep add it and run update-initramfs -u before import",
        )
    if fam == "linux-dracut":
        return DiskPlan(
            fam,
            "sata",
            "virtio",
            "boot disk sata, data disks virtio; before import run dracut -f --add-drivers "
            "'virtio_blk virtio_pci' for each kernel, then regenerate with --virtio-drivers",
        )
    return DiskPlan(
        fam,
        "sata",
        "sata",
        "all disks sata: unknown guest family; switch to virtio once it has virtio drivers",
    )
