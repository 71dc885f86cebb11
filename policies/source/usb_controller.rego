# USB controller: The VM has a USB controller, often for a licence dongle.
package migrator.source.usb_controller

import rego.v1

metadata := {
	"id": "SRC-USB",
	"severity": "warning",
	"title": "USB controller",
	"description": "The VM has a USB controller, often for a licence dongle.",
	"remediation": "Find what is plugged in (dongle, token) and plan its network-attached replacement.",
	"vsphere_path": "config.hardware.device[VirtualUSBController]",
	"targets": {
		"kubevirt": "USB devices of the source host are not carried over.",
		"terraform-aws": "EC2 has no USB devices.",
		"terraform-azure": "Azure VMs have no USB devices.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	vm.usb_controllers > 0
	msg := sprintf("%d USB controller(s)", [vm.usb_controllers])
]
