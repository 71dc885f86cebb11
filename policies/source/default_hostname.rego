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
		"terraform-azure": "The VM gets the computer name migrator derives from its name (15 characters on Windows).",
	},
}

# No host name (missing or not a string), and a default one: two cheap passes over the VMs, no
# function call per VM (rego-cpp's calls cost more than the test they wrap).
findings := array.concat(
	[{"vm": vm.name, "message": message(vm)} | some vm in input.vms; not is_string(object.get(vm, "hostname", null))],
	[{"vm": vm.name, "message": message(vm)} | some vm in input.vms; vm.hostname in defaults],
)

defaults := {"", "localhost", "localhost.localdomain", "localhost.local", "LOCALHOST", "Localhost"}

# Messages quote input values only (rego-cpp quotes strings computed by builtins in sprintf).
message(vm) := sprintf("host name is %s", [vm.hostname]) if {
	is_string(vm.hostname)
	vm.hostname != ""
} else := "no host name reported"
