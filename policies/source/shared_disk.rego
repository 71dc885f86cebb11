# Shared (multi-writer) disk: A disk is shared with other VMs (multi-writer), typically a cluster quorum or shared database disk.
package migrator.source.shared_disk

import rego.v1

metadata := {
	"id": "SRC-SHARED-DISK",
	"severity": "warning",
	"title": "Shared (multi-writer) disk",
	"description": "A disk is shared with other VMs (multi-writer), typically a cluster quorum or shared database disk.",
	"remediation": "Plan the cluster's shared storage on the target (EBS Multi-Attach io2, a shared PVC) and move the members together.",
	"vsphere_path": "config.hardware.device[VirtualDisk].backing.sharing",
	"targets": {
		"kubevirt": "A DataVolume per VM would copy the shared disk once per VM; use one ReadWriteMany PVC instead.",
		"terraform-aws": "gp3 volumes cannot be attached to two instances; io2 Multi-Attach is needed.",
		"terraform-azure": "A managed disk attaches to one VM unless created as a shared disk (max_shares), which migrator does not generate.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	some i
	vm.disks[i].sharing == "sharingMultiWriter"
	msg := sprintf("disk %d is shared (multi-writer)", [i])
]
