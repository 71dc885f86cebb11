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
	some cluster in clusters_named[vm.cluster]
	some feature in features
	cluster[feature[0]] == true
	msg := sprintf("cluster %s has %s enabled", [cluster.name, feature[1]])
]

features := [["drs_enabled", "DRS"], ["dpm_enabled", "DPM"]]

# Cluster name -> the clusters of that name: a lookup per VM instead of a scan of every cluster.
clusters_named := {name: [cluster | some cluster in input.clusters; cluster.name == name] |
	some named in input.clusters
	name := named.name
}
