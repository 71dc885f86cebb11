# VM-host affinity rule: A DRS rule ties the VM to specific hosts, usually for licensing (SQL Server, Oracle).
package migrator.source.vm_host_affinity

import rego.v1

metadata := {
	"id": "SRC-VM-HOST-AFFINITY",
	"severity": "warning",
	"title": "VM-host affinity rule",
	"description": "A DRS rule ties the VM to specific hosts, usually for licensing (SQL Server, Oracle).",
	"remediation": "Check the licence terms for the target; use dedicated hosts or a node selector where required.",
	"vsphere_path": "cluster.configurationEx.rule[ClusterVmHostRuleInfo]",
	"targets": {
		"kubevirt": "Add a nodeSelector or node affinity for licensed nodes.",
		"terraform-aws": "Consider EC2 Dedicated Hosts for per-core licensing.",
		"terraform-azure": "Consider Azure Dedicated Hosts for per-core licensing.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	maybe_tied(vm.name)
	some rule in vm_host_rules
	vm.name in rule.vms
	msg := sprintf("DRS rule %s ties it to %d host(s)", [rule.name, count(object.get(rule, "hosts", []))])
]

# The vm-host rules of every cluster: a VM none of them can name is not joined with any rule
# (VMs x rules took 41 s for 10,000 VMs and 1,000 rules of any kind).
vm_host_rules := [rule | some cluster in input.clusters; some rule in cluster.drs_rules; rule.kind == "vm-host"]

# A pre-check, not the join: the names the rules list, one a line. rego-cpp copies a rule's value
# each time a VM refers to it, so `vm.name in tied` (a set of 200 names) cost 1.4 s over 10,000
# VMs, while `contains` on one string is one search (docs/policies.md). No name holds a line
# break (rego-cpp holds strings in their escaped JSON form, a line break as `\n`), so a name is
# found only as a whole line; a name that is not a string takes the join as before.
tied_text := concat("\n", array.concat(array.concat([""], [name | some rule in vm_host_rules; some name in rule.vms; is_string(name)]), [""]))

maybe_tied(name) if not is_string(name)

maybe_tied(name) if contains(tied_text, concat("", ["\n", name, "\n"]))
