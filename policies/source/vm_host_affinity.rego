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
	},
}

findings contains {"vm": vm.name, "message": msg} if {
	some vm in input.vms
	some cluster in input.clusters
	some rule in cluster.drs_rules
	rule.kind == "vm-host"
	vm.name in rule.vms
	msg := sprintf("DRS rule %s ties it to %d host(s)", [rule.name, count(object.get(rule, "hosts", []))])
}
