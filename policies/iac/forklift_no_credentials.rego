# No credential in a Forklift resource: Forklift resources reference the Secret that holds vCenter's credentials by name; no password, token, user name or credential-bearing URL is written into them, nor into a Hook's playbook.
package migrator.iac.forklift_no_credentials

import rego.v1

metadata := {
	"id": "IAC-FORKLIFT-NO-CREDENTIALS",
	"severity": "critical",
	"title": "No credential in a Forklift resource",
	"description": "Forklift resources reference the Secret that holds vCenter's credentials by name; no password, token, user name or credential-bearing URL is written into them, nor into a Hook's playbook.",
	"remediation": "Put the credentials in the Secret the Provider names (spec.secret) and create it out of band; a hook reads what it needs from a Secret at run time (kubernetes.core.k8s_info).",
	"applies_to": ["kubernetes"],
	"scope": "any",
}

credential_keys := {"password", "pass", "passwd", "pwd", "token", "user", "username", "apikey", "api_key", "secretkey"}

# A Secret reference names a Secret; anything else under spec.secret is a credential written inline.
reference_keys := {"name", "namespace", "apiVersion", "kind", "uid", "resourceVersion", "fieldPath"}

forklift(m) if startswith(object.get(m.doc, "apiVersion", ""), "forklift.konveyor.io/")

findings contains {"resource": sprintf("%s/%s", [m.kind, m.name]), "file": m.file, "message": sprintf("%s holds a value", [key])} if {
	some m in input.manifests
	forklift(m)
	walk(m.doc, [path, value])
	count(path) > 0
	key := path[count(path) - 1]
	is_string(key)
	lower(key) in credential_keys
	value != ""
}

findings contains {"resource": sprintf("%s/%s", [m.kind, m.name]), "file": m.file, "message": sprintf("spec.secret.%s is not a reference", [key])} if {
	some m in input.manifests
	forklift(m)
	some key, _ in object.get(object.get(m.doc, "spec", {}), "secret", {})
	not key in reference_keys
}

findings contains {"resource": sprintf("%s/%s", [m.kind, m.name]), "file": m.file, "message": "spec.url carries credentials"} if {
	some m in input.manifests
	forklift(m)
	url := object.get(object.get(m.doc, "spec", {}), "url", "")
	is_string(url)
	credential_url(url)
}

credential_url(url) if {
	authority := split(split(url, "://")[1], "/")[0]
	contains(authority, "@")
}

credential_url(url) if regex.match(`[?&](password|pass|passwd|pwd|token|secret|api_key|apikey)=`, lower(url))

# A Hook's playbook is base64 text, invisible to the walk above: decode it and look at its keys
# (Ansible's own credential variables included, ansible_password, vault_password, ...).
findings contains {"resource": sprintf("Hook/%s", [m.name]), "file": m.file, "message": sprintf("the playbook's %s holds a value", [key])} if {
	some m in input.manifests
	forklift(m)
	m.kind == "Hook"
	playbook := object.get(object.get(m.doc, "spec", {}), "playbook", "")
	is_string(playbook)
	base64.is_valid(playbook)
	text := base64.decode(playbook)
	yaml.is_valid(text)
	walk(yaml.unmarshal(text), [path, value])
	count(path) > 0
	key := path[count(path) - 1]
	is_string(key)
	playbook_credential(lower(key))
	value != ""
}

playbook_credential(key) if key in credential_keys

playbook_credential(key) if regex.match(`(password|passwd|token|api_?key|secret_?key|private_?key|_pass$)`, key)
