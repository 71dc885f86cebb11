# Snapshots present: The VM has snapshots; the copy takes the current state and the snapshot chain slows it down.
package migrator.source.snapshots

import rego.v1

metadata := {
	"id": "SRC-SNAPSHOTS",
	"severity": "info",
	"title": "Snapshots present",
	"description": "The VM has snapshots; the copy takes the current state and the snapshot chain slows it down.",
	"remediation": "Consolidate or delete snapshots that are no longer needed before the wave.",
	"vsphere_path": "snapshot.rootSnapshotList",
	"targets": {
		"kubevirt": "Only the current state is imported; the snapshot history is not.",
		"terraform-aws": "Only the current state is replicated.",
		"terraform-azure": "Only the current state is replicated.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	vm.snapshot_count > 0
	msg := sprintf("%d snapshot(s)", [vm.snapshot_count])
]
