# Forklift hooks are complete: Every hook a Forklift Plan's VM names is a Hook of the wave, run at PreHook or PostHook, and every Hook's playbook is a base64-encoded Ansible playbook (a list of plays).
package migrator.iac.forklift_hooks

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-FORKLIFT-HOOKS",
	"severity": "critical",
	"title": "Forklift hooks are complete",
	"description": "Every hook a Forklift Plan's VM names is a Hook of the wave, run at PreHook or PostHook, and every Hook's playbook is a base64-encoded Ansible playbook (a list of plays).",
	"remediation": "Apply the Hook with the Plan (regenerate the wave), use step PreHook or PostHook, and encode the playbook with base64.",
	"applies_to": ["kubernetes"],
	"scope": "generated",
}

hooks := {[h.name, object.get(h.doc.metadata, "namespace", "")] | some h in lib.manifests("Hook")}

references(plan) := [[vm, ref] |
	some vm in object.get(plan.doc.spec, "vms", [])
	some ref in object.get(vm, "hooks", [])
]

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s names hook %s, which is not in the wave", [object.get(r[0], "id", ""), name])} if {
	some p in lib.manifests("Plan")
	some r in references(p)
	name := object.get(object.get(r[1], "hook", {}), "name", "")
	namespace := object.get(object.get(r[1], "hook", {}), "namespace", object.get(p.doc.metadata, "namespace", ""))
	not [name, namespace] in hooks
}

findings contains {"resource": sprintf("Plan/%s", [p.name]), "file": p.file, "message": sprintf("VM %s runs a hook at step %v: use PreHook or PostHook", [object.get(r[0], "id", ""), step])} if {
	some p in lib.manifests("Plan")
	some r in references(p)
	step := object.get(r[1], "step", "")
	not step in {"PreHook", "PostHook"}
}

findings contains {"resource": sprintf("Hook/%s", [h.name]), "file": h.file, "message": "spec.playbook is not a base64-encoded list of plays"} if {
	some h in lib.manifests("Hook")
	playbook := object.get(object.get(h.doc, "spec", {}), "playbook", "")
	playbook != ""
	not plays(playbook)
}

plays(playbook) if {
	is_string(playbook)
	base64.is_valid(playbook)
	text := base64.decode(playbook)
	yaml.is_valid(text)
	is_array(yaml.unmarshal(text))
}
