# DRS or DPM in the source cluster: The VM's cluster balances or powers hosts automatically; placement decisions do not carry over.
package migrator.source.drs_dpm

import rego.v1

metadata := {
	"id": "SRC-DRS-DPM",
	"severity": "info",
	"title": "DRS or DPM in the source cluster",
	"description": "The VM's cluster balances or powers hosts automatically; placement decisions do not carry over.",
	"remediation": "Nothing to do unless the VM relies on a DRS rule (see the anti-affinity mapping).",
	"vsphere_path": "cluster.configurationEx.drsConfig, dpmConfigInfo",
	"targets": {
		"kubevirt": "Scheduling is done by Kubernetes.",
		"terraform-aws": "Placement is done by EC2.",
		"terraform-azure": "Placement is done by Azure.",
	},
}

findings := [{"vm": vm.name, "message": msg} |
	some vm in input.vms
	some msg in cluster_messages[vm.cluster]
]

features := [["drs_enabled", "DRS"], ["dpm_enabled", "DPM"]]

# Cluster name -> the messages of the clusters of that name: a lookup per VM instead of a scan of
# every cluster. The messages, not the clusters: rego-cpp copies the value a VM looks up in, and
# whole clusters (their DRS rules) made that 0.7 s over 10,000 VMs instead of 0.4 s.
cluster_messages := {name: [sprintf("cluster %s has %s enabled", [cluster.name, feature[1]]) |
		some cluster in input.clusters
		cluster.name == name
		some feature in features
		cluster[feature[0]] == true
	] |
	some named in input.clusters
	name := named.name
}
