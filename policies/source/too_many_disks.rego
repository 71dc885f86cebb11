# More disks than the target takes: The VM has more disks than the target supports (KubeVirt: 165 in Forklift's check; EC2 Nitro: 27 EBS attachments).
package migrator.source.too_many_disks

import rego.v1

metadata := {
	"id": "SRC-TOO-MANY-DISKS",
	"severity": "warning",
	"title": "More disks than the target takes",
	"description": "The VM has more disks than the target supports (KubeVirt: 165 in Forklift's check; EC2 Nitro: 27 EBS attachments).",
	"remediation": "Consolidate disks in the guest (LVM, storage spaces) before the move.",
	"vsphere_path": "config.hardware.device[VirtualDisk]",
	"targets": {
		"kubevirt": "More than 165 disks cannot be attached.",
		"terraform-aws": "More than 27 EBS volumes cannot be attached to a Nitro instance.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	count(vm.disks) > limit
	msg := sprintf("%d disks, more than the %d the target takes", [count(vm.disks), limit])
]

limit := 27 if input.target == "terraform-aws"

else := 165
