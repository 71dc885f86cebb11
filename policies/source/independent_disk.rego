# Independent disk: An independent disk is excluded from snapshots, so snapshot-based (warm) copies miss it.
package migrator.source.independent_disk

import rego.v1

metadata := {
	"id": "SRC-INDEPENDENT-DISK",
	"severity": "warning",
	"title": "Independent disk",
	"description": "An independent disk is excluded from snapshots, so snapshot-based (warm) copies miss it.",
	"remediation": "Switch the disk to dependent mode, or copy it cold with the VM powered off.",
	"vsphere_path": "config.hardware.device[VirtualDisk].backing.diskMode",
	"targets": {
		"kubevirt": "Warm migration with CBT cannot snapshot it; plan a cold migration.",
		"terraform-aws": "Snapshot-based replication does not see it; plan a cold copy.",
		"terraform-azure": "Snapshot-based replication does not see it; plan a cold copy.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	some i
	vm.disks[i].independent == true
	msg := sprintf("disk %d is independent", [i])
]
