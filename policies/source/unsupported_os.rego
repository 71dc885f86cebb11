# Unsupported or unknown guest OS: The guest OS is unknown to vCenter (other*) or not supported for conversion.
package migrator.source.unsupported_os

import rego.v1

metadata := {
	"id": "SRC-UNSUPPORTED-OS",
	"severity": "warning",
	"title": "Unsupported or unknown guest OS",
	"description": "The guest OS is unknown to vCenter (other*) or not supported for conversion.",
	"remediation": "Confirm the real OS; virt-v2v and AWS VM Import support current Windows Server and major Linux distributions.",
	"vsphere_path": "config.guestId",
	"targets": {
		"kubevirt": "virt-v2v may not install virtio drivers; the VM may not boot.",
		"terraform-aws": "VM Import may refuse the image; use a rebuilt AMI.",
		"terraform-azure": "Azure may not support or boot the guest; use an endorsed image or rebuild.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	object.get(vm, "guest_id", "") in unsupported_ids
	msg := message(vm)
]

# The estate's distinct guest ids that are unsupported: the prefix test runs once per guest id
# rather than once per VM (a few dozen ids for thousands of VMs).
unsupported_ids := {gid | some gid in guest_ids; unsupported(gid)}

guest_ids := {object.get(vm, "guest_id", "") | some vm in input.vms}

# vCenter guest ids of systems neither virt-v2v nor AWS VM Import converts, and "other*".
unsupported_prefixes := [
	"other", "win31", "win95", "win98", "winNT", "win2000", "winXP", "dos", "netware",
	"solaris", "freebsd", "darwin", "os2", "sco", "unixWare",
]

unsupported(gid) if {
	some prefix in unsupported_prefixes
	startswith(gid, prefix)
}

unsupported(gid) if gid == ""

unsupported(null)

# Messages quote input values only: rego-cpp (regopy 1.5) emits policy-side default strings
# passed through sprintf with unescaped quotes, which corrupts the JSON result.
message(vm) := sprintf("guest OS %s is unknown or unsupported", [vm.guest_id]) if {
	is_string(vm.guest_id)
	vm.guest_id != ""
} else := "no guest OS recorded"
