# PCI passthrough device: The VM uses a PCI device of its ESXi host directly (GPU, HBA, NIC).
package migrator.source.passthrough

import rego.v1

metadata := {
	"id": "SRC-PASSTHROUGH",
	"severity": "critical",
	"title": "PCI passthrough device",
	"description": "The VM uses a PCI device of its ESXi host directly (GPU, HBA, NIC).",
	"remediation": "Remove the device or plan a target with equivalent hardware (KubeVirt host devices, an EC2 GPU family) by hand.",
	"vsphere_path": "config.hardware.device[VirtualPCIPassthrough]",
	"targets": {
		"kubevirt": "KubeVirt cannot attach the source host's device; the import would produce a VM without it.",
		"terraform-aws": "EC2 has no passthrough of on-premises devices; the workload needs a redesign.",
		"terraform-azure": "Azure has no passthrough of on-premises devices; the workload needs a redesign.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	vm.passthrough_devices > 0
	msg := sprintf("%d PCI passthrough device(s)", [vm.passthrough_devices])
]
