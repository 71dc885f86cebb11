# Forklift plan holds the wave: Every VM of the wave is in the wave's Forklift Plan exactly once, and no VM of another wave is in it.
package migrator.iac.forklift_plan_vms

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-FORKLIFT-PLAN-VMS",
	"severity": "critical",
	"title": "Forklift plan holds the wave",
	"description": "Every VM of the wave is in the wave's Forklift Plan exactly once, and no VM of another wave is in it.",
	"remediation": "Regenerate the wave, or list each VM of the source-facts ConfigMap once in the Plan's spec.vms.",
	"applies_to": ["kubernetes"],
	"scope": "generated",
}

listed(plan) := [object.get(vm, "id", "") | some vm in object.get(plan.doc.spec, "vms", [])]

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s of the wave is not in the plan", [id])} if {
	some p in lib.manifests("Plan")
	some id in lib.forklift_wave_vms(p)
	not id in listed(p)
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s is in the plan %d times", [id, n])} if {
	some p in lib.manifests("Plan")
	some id in listed(p)
	n := count([i | some i in listed(p); i == id])
	n > 1
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s is not of this wave", [id])} if {
	some p in lib.manifests("Plan")
	lib.forklift_facts(p)
	some id in listed(p)
	not id in lib.forklift_wave_vms(p)
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("source-facts ConfigMap %s is missing: the wave's VMs cannot be checked", [name])} if {
	some p in lib.manifests("Plan")
	name := p.doc.metadata.annotations["migrator.io/source-facts"]
	not lib.forklift_facts(p)
}
