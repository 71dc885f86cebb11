# Disk consolidation needed: vCenter reports leftover snapshot delta files that need consolidation.
package migrator.source.consolidation_needed

import rego.v1

metadata := {
	"id": "SRC-CONSOLIDATION-NEEDED",
	"severity": "warning",
	"title": "Disk consolidation needed",
	"description": "vCenter reports leftover snapshot delta files that need consolidation.",
	"remediation": "Run Snapshots > Consolidate in vCenter before the wave.",
	"vsphere_path": "runtime.consolidationNeeded",
	"targets": {
		"kubevirt": "The import may read an inconsistent chain.",
		"terraform-aws": "Replication may read an inconsistent chain.",
		"terraform-azure": "Azure Migrate replication may read an inconsistent chain.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	vm.consolidation_needed == true
	msg := "disks need consolidation"
]
