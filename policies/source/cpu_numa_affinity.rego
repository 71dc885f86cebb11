# CPU or NUMA affinity: The VM is pinned to host CPUs or NUMA nodes, usually for performance or licensing.
package migrator.source.cpu_numa_affinity

import rego.v1

metadata := {
	"id": "SRC-CPU-NUMA-AFFINITY",
	"severity": "warning",
	"title": "CPU or NUMA affinity",
	"description": "The VM is pinned to host CPUs or NUMA nodes, usually for performance or licensing.",
	"remediation": "Re-evaluate the need; use dedicated CPUs on the target if the workload requires them.",
	"vsphere_path": "config.cpuAffinity, config.extraConfig[numa.nodeAffinity]",
	"targets": {
		"kubevirt": "The pinning is dropped; use dedicatedCpuPlacement if needed.",
		"terraform-aws": "Pinning is not available; use a dedicated host if licensing requires it.",
		"terraform-azure": "Pinning is not available; use an Azure Dedicated Host if licensing requires it.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	count(object.get(vm, "cpu_affinity", [])) + count([1 | object.get(vm, "numa_affinity", null) != null]) > 0
	msg := "CPU or NUMA affinity is set and will be dropped"
]
