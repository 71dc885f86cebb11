# SR-IOV network adapter: A NIC uses SR-IOV passthrough for low latency.
package migrator.source.sriov

import rego.v1

metadata := {
	"id": "SRC-SRIOV",
	"severity": "warning",
	"title": "SR-IOV network adapter",
	"description": "A NIC uses SR-IOV passthrough for low latency.",
	"remediation": "Map it to SR-IOV on the target (a KubeVirt sriov interface, EC2 ENA) and test latency.",
	"vsphere_path": "config.hardware.device[VirtualSriovEthernetCard]",
	"targets": {
		"kubevirt": "The interface becomes a bridge interface unless an SR-IOV network is configured.",
		"terraform-aws": "The interface becomes an ENA interface.",
		"terraform-azure": "The interface becomes a standard Azure NIC; enable Accelerated Networking on a size that has it.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	vm.sriov_nics > 0
	msg := sprintf("%d SR-IOV adapter(s)", [vm.sriov_nics])
]
