# Nothing executable carries inventory text: No provisioner blocks (local-exec, remote-exec), no user data and no cloud-init: generated code never runs commands, so inventory text can never become one.
package migrator.iac.no_provisioners

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-NO-PROVISIONERS",
	"severity": "critical",
	"title": "Nothing executable carries inventory text",
	"description": "No provisioner blocks (local-exec, remote-exec), no user data and no cloud-init: generated code never runs commands, so inventory text can never become one.",
	"remediation": "Remove provisioners and user data; configure guests with your configuration management after cutover.",
	"applies_to": ["terraform", "kubernetes"],
	"scope": "generated",
}

findings contains {"resource": r.address, "file": r.file, "message": "provisioner block present"} if {
	some r in input.resources
	count(object.get(r.config, "provisioner", [])) > 0
}

findings contains {"resource": r.address, "file": r.file, "message": sprintf("%s is set", [key])} if {
	some r in input.resources
	some key in ["user_data", "user_data_base64"]
	object.get(r.config, key, null) != null
}

findings contains {"resource": sprintf("VirtualMachine/%s", [m.name]), "file": m.file, "message": "cloud-init or sysprep volume present"} if {
	some m in lib.manifests("VirtualMachine")
	some volume in object.get(m.doc.spec.template.spec, "volumes", [])
	some key in ["cloudInitNoCloud", "cloudInitConfigDrive", "sysprep"]
	object.get(volume, key, null) != null
}
