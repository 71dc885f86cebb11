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

# Each Plan's lists, computed once per Plan (by its position: two Plans may share a name) and
# compared as sets: a `not id in listed(p)` per VM recomputes the list for every VM, which made
# this guardrail quadratic in the wave's size (five seconds for a Plan of 200 VMs).
plans := lib.manifests("Plan")

listed_of[i] := listed(p) if some i, p in plans

listed_set[i] := {id | some id in listed_of[i]} if some i, _ in plans

wave_set[i] := {id | some id in lib.forklift_wave_vms(p)} if some i, p in plans

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s of the wave is not in the plan", [id])} if {
	some i, p in plans
	some id in wave_set[i] - listed_set[i]
}

# a VM listed twice: only a Plan whose list is longer than its set of ids has one
findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s is in the plan %d times", [id, n])} if {
	some i, p in plans
	count(listed_of[i]) > count(listed_set[i])
	some id in listed_set[i]
	n := count([x | some x in listed_of[i]; x == id])
	n > 1
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s is not of this wave", [id])} if {
	some i, p in plans
	lib.forklift_facts(p)
	some id in listed_set[i] - wave_set[i]
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("source-facts ConfigMap %s is missing: the wave's VMs cannot be checked", [name])} if {
	some p in lib.manifests("Plan")
	name := p.doc.metadata.annotations["migrator.io/source-facts"]
	not lib.forklift_facts(p)
}
