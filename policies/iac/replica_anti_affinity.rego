# Anti-affinity kept for replicas and DRS rules: VMs in a spread set (DRS anti-affinity or primary/replica) keep that separation: an EC2 spread placement group, or a podAntiAffinity term selecting the set's label.
package migrator.iac.replica_anti_affinity

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-REPLICA-ANTI-AFFINITY",
	"severity": "warning",
	"title": "Anti-affinity kept for replicas and DRS rules",
	"description": "VMs in a spread set (DRS anti-affinity or primary/replica) keep that separation: an EC2 spread placement group, or a podAntiAffinity term selecting the set's label.",
	"remediation": "Keep placement_group on the instance (strategy spread), or the VirtualMachine's podAntiAffinity term for its spread.migrator.io label.",
	"applies_to": ["terraform", "kubernetes"],
	"scope": "generated",
}

findings contains {"resource": r.address, "file": r.file, "message": "member of a spread set without a spread placement group"} if {
	some r in lib.resources("aws_instance")
	object.get(object.get(r.config, "tags", {}), "migrator-spread-set", null) != null
	not spread_group(r)
}

# a rule, so the placement groups are listed once per query, not once per instance
placement_groups := lib.resources("aws_placement_group")

spread_group(r) if {
	some g in placement_groups
	object.get(r.config, "placement_group", "") == sprintf("${aws_placement_group.%s.name}", [g.name])
	object.get(g.config, "strategy", "") == "spread"
}

findings contains {"resource": sprintf("VirtualMachine/%s", [m.name]), "file": m.file, "message": sprintf("label %s has no podAntiAffinity term", [label])} if {
	some m in lib.manifests("VirtualMachine")
	some label, _ in object.get(object.get(m.doc.spec.template, "metadata", {}), "labels", {})
	startswith(label, "spread.migrator.io/")
	not covered(m, label)
}

anti(m) := object.get(object.get(m.doc.spec.template.spec, "affinity", {}), "podAntiAffinity", {})

covered(m, label) if {
	some term in object.get(anti(m), "requiredDuringSchedulingIgnoredDuringExecution", [])
	term.labelSelector.matchLabels[label]
}

covered(m, label) if {
	some weighted in object.get(anti(m), "preferredDuringSchedulingIgnoredDuringExecution", [])
	weighted.podAffinityTerm.labelSelector.matchLabels[label]
}
