# Empty or default host name: The guest reports no host name or a default one (localhost).
package migrator.source.default_hostname

import rego.v1

metadata := {
	"id": "SRC-DEFAULT-HOSTNAME",
	"severity": "warning",
	"title": "Empty or default host name",
	"description": "The guest reports no host name or a default one (localhost).",
	"remediation": "Set a real host name in the guest; DNS and monitoring depend on it.",
	"vsphere_path": "guest.hostName",
	"targets": {
		"kubevirt": "The VM name is used as host name.",
		"terraform-aws": "The instance gets an AWS-assigned host name.",
	},
}

findings contains {"vm": vm.name, "message": msg} if {
	some vm in input.vms
	hostname := hostname_of(vm)
	hostname in {"", "localhost", "localhost.localdomain", "localhost.local", "LOCALHOST", "Localhost"}
	msg := message(vm)
}

hostname_of(vm) := vm.hostname if is_string(vm.hostname)

else := ""

# Messages quote input values only (rego-cpp quotes strings computed by builtins in sprintf).
message(vm) := sprintf("host name is %s", [vm.hostname]) if {
	is_string(vm.hostname)
	vm.hostname != ""
} else := "no host name reported"
