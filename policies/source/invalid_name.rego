# Name needs rewriting: The VM name has characters outside [A-Za-z0-9.-] or 64 or more characters.
package migrator.source.invalid_name

import rego.v1

metadata := {
	"id": "SRC-INVALID-NAME",
	"severity": "warning",
	"title": "Name needs rewriting",
	"description": "The VM name has characters outside [A-Za-z0-9.-] or 64 or more characters.",
	"remediation": "Nothing needed: migrator derives stable valid names; rename in vCenter if you want them to match.",
	"vsphere_path": "name",
	"targets": {
		"kubevirt": "The VirtualMachine gets a DNS-1123 name; the original is kept in an annotation.",
		"terraform-aws": "Terraform names and tags are sanitised; the original is kept in the Name tag.",
		"terraform-azure": "Azure names and tags are sanitised; the original is kept in the Name tag.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	not regex.match(`^[A-Za-z0-9.-]{1,63}$`, vm.name)
	msg := "name has characters outside [A-Za-z0-9.-] or is 64+ characters long"
]
