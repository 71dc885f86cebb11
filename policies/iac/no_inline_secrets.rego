# No secrets inline: Passwords, keys and tokens are never written as literals: Terraform takes them from variables or a secret store, Kubernetes manifests reference Secrets without containing them.
package migrator.iac.no_inline_secrets

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-NO-INLINE-SECRETS",
	"severity": "critical",
	"title": "No secrets inline",
	"description": "Passwords, keys and tokens are never written as literals: Terraform takes them from variables or a secret store, Kubernetes manifests reference Secrets without containing them.",
	"remediation": "Use a sensitive variable or a secret manager reference; create Kubernetes Secrets out of band.",
	"applies_to": ["terraform", "kubernetes"],
}

secret_words := ["password", "secret", "token", "access_key", "private_key"]

findings contains {"resource": r.address, "file": r.file, "message": sprintf("%s is a literal", [key])} if {
	some r in input.resources
	some key, value in r.config
	is_string(value)
	not startswith(value, "${")
	value != ""
	some word in secret_words
	contains(key, word)
}

findings contains {"resource": sprintf("Secret/%s", [m.name]), "file": m.file, "message": "Secret with inline data"} if {
	some m in lib.manifests("Secret")
	some key in ["data", "stringData"]
	count(object.get(m.doc, key, {})) > 0
}
