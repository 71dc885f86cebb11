# Changed block tracking off: Without CBT only a cold (powered-off) copy is possible.
package migrator.source.cbt_disabled

import rego.v1

metadata := {
	"id": "SRC-CBT-DISABLED",
	"severity": "warning",
	"title": "Changed block tracking off",
	"description": "Without CBT only a cold (powered-off) copy is possible.",
	"remediation": "Enable CBT (ctkEnabled) and take and remove one snapshot, or plan a cold migration window.",
	"vsphere_path": "config.changeTrackingEnabled",
	"targets": {
		"kubevirt": "Warm migration needs CBT; without it the VM moves cold.",
		"terraform-aws": "Incremental replication needs CBT; without it the copy is full and cold.",
		"terraform-azure": "Azure Migrate's agentless replication needs CBT; without it every cycle copies the whole disk.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	vm.power_state == "poweredOn"
	vm.cbt_enabled != true
	msg := "changed block tracking is off: only a cold migration is possible"
]
