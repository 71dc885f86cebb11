# More disks than the target takes: The VM has more disks than the target supports (KubeVirt: 165 in Forklift's check; EC2 Nitro: 27 EBS attachments; Azure: the OS disk and 32 data disks).
package migrator.source.too_many_disks

import rego.v1

metadata := {
	"id": "SRC-TOO-MANY-DISKS",
	"severity": "warning",
	"title": "More disks than the target takes",
	"description": "The VM has more disks than the target supports (KubeVirt: 165 in Forklift's check; EC2 Nitro: 27 EBS attachments; Azure: the OS disk and 32 data disks).",
	"remediation": "Consolidate disks in the guest (LVM, storage spaces) before the move.",
	"vsphere_path": "config.hardware.device[VirtualDisk]",
	"targets": {
		"kubevirt": "More than 165 disks cannot be attached.",
		"terraform-aws": "More than 27 EBS volumes cannot be attached to a Nitro instance.",
		"terraform-azure": "More than 32 data disks cannot be attached to the catalogued sizes (and fewer to small ones: the size is picked to hold them).",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	count(vm.disks) > limit
	msg := sprintf("%d disks, more than the %d the target takes", [count(vm.disks), limit])
]

limit := 27 if input.target == "terraform-aws"

else := 33 if input.target == "terraform-azure"

else := 165
