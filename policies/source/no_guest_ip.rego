# No guest IP address: VMware Tools report no IP address, so flows cannot be tied to the VM and static IPs cannot be preserved.
package migrator.source.no_guest_ip

import rego.v1

metadata := {
	"id": "SRC-NO-GUEST-IP",
	"severity": "warning",
	"title": "No guest IP address",
	"description": "VMware Tools report no IP address, so flows cannot be tied to the VM and static IPs cannot be preserved.",
	"remediation": "Start VMware Tools (or record the IP as a custom attribute) and discover again.",
	"vsphere_path": "guest.net[].ipAddress",
	"targets": {
		"kubevirt": "Static IP preservation and flow-based checks are not possible.",
		"terraform-aws": "Security groups miss this VM's traffic.",
		"terraform-azure": "Network security groups miss this VM's traffic.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	count(object.get(vm, "ip_addresses", [])) == 0
	count([ip | some nic in object.get(vm, "nics", []); some ip in object.get(nic, "ip_addresses", [])]) == 0
	msg := "no guest IP address reported"
]
