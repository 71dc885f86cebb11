# Fault tolerance: vSphere FT keeps a lock-step secondary; the target has no equivalent.
package migrator.source.fault_tolerance

import rego.v1

metadata := {
	"id": "SRC-FAULT-TOLERANCE",
	"severity": "info",
	"title": "Fault tolerance",
	"description": "vSphere FT keeps a lock-step secondary; the target has no equivalent.",
	"remediation": "Design availability on the target (replicas, multiple AZs) before moving the VM.",
	"vsphere_path": "runtime.faultToleranceState",
	"targets": {
		"kubevirt": "KubeVirt restarts the VM on another node instead.",
		"terraform-aws": "EC2 recovers the instance instead; there is no lock-step secondary.",
		"terraform-azure": "Azure heals the VM on another host instead; there is no lock-step secondary.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	not object.get(vm, "fault_tolerance", "notConfigured") in {"notConfigured", null}
	msg := sprintf("fault tolerance state %s", [vm.fault_tolerance])
]
