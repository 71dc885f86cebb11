# Raw device mapping: A disk maps a LUN directly instead of a VMDK.
package migrator.source.rdm

import rego.v1

metadata := {
	"id": "SRC-RDM",
	"severity": "warning",
	"title": "Raw device mapping",
	"description": "A disk maps a LUN directly instead of a VMDK.",
	"remediation": "Convert the RDM to a VMDK (storage vMotion, virtual mode) or move the LUN's data separately.",
	"vsphere_path": "config.hardware.device[VirtualDisk].backing (VirtualDiskRawDiskMappingVer1BackingInfo)",
	"targets": {
		"kubevirt": "VDDK imports VMDKs; the RDM's data is not copied.",
		"terraform-aws": "The LUN's data is not replicated into EBS.",
		"terraform-azure": "The LUN's data is not replicated into a managed disk.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	some i
	vm.disks[i].rdm != null
	msg := sprintf("disk %d is an RDM (%v)", [i, vm.disks[i].rdm])
]
