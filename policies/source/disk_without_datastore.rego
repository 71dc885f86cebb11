# Disk without datastore: A virtual disk has no datastore backing, so there is nothing to copy.
package migrator.source.disk_without_datastore

import rego.v1

metadata := {
	"id": "SRC-DISK-WITHOUT-DATASTORE",
	"severity": "critical",
	"title": "Disk without datastore",
	"description": "A virtual disk has no datastore backing, so there is nothing to copy.",
	"remediation": "Fix the disk in vCenter (or remove it) and discover again.",
	"vsphere_path": "config.hardware.device[VirtualDisk].backing.datastore",
	"targets": {
		"kubevirt": "CDI has no backing file to import over VDDK.",
		"terraform-aws": "There is no file to replicate into an EBS volume.",
		"terraform-azure": "There is no file to replicate into a managed disk.",
	},
}

# The message is built in the head, not bound in the body: with the disk bound to a variable,
# a body binding made every disk cost more (0.33-0.36 to 0.26-0.28 s of CPU over 10,000 VMs).
findings := [{"vm": vm.name, "message": sprintf("disk %d has no datastore", [i])} |
	some vm in input.vms
	some i; disk := vm.disks[i]
	object.get(disk, "datastore", null) == null
]
