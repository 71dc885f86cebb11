# No secrets inline: Arguments that hold a secret (passwords, secret keys, private keys, auth tokens, secret values) are never written as literals: Terraform takes them from variables or a secret store, Kubernetes manifests reference Secrets without containing them.
package migrator.iac.no_inline_secrets

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-NO-INLINE-SECRETS",
	"severity": "critical",
	"title": "No secrets inline",
	"description": "Arguments that hold a secret (passwords, secret keys, private keys, auth tokens, secret values) are never written as literals: Terraform takes them from variables or a secret store, Kubernetes manifests reference Secrets without containing them.",
	"remediation": "Use a sensitive variable or a secret manager reference; create Kubernetes Secrets out of band.",
	"applies_to": ["terraform", "kubernetes"],
	"scope": "any",
}

# Which arguments hold a secret is what the provider schema's `sensitive` flag says; the schema
# migrator ships (built from the cdktf bindings) does not record it, so the secret arguments are
# named here exactly, never matched by a part of a name (`global_endpoint_token_version` is a
# version switch, `get_password_data` a boolean). Provenance of each name: docs/validate.md.
secret_arguments := {
	"password", "passwords", "password_wo",
	"master_password", "master_password_wo",
	"secret_key", "private_key", "auth_token", "client_secret",
	"secret_string", "secret_string_wo", "secret_binary",
}

# Arguments whose name is generic but which the provider marks sensitive on these types.
secret_arguments_of := {
	"provider": {"token"},
	"aws_ssm_parameter": {"value", "value_wo"},
}

# The argument itself, each element of a list argument (`passwords`), and the arguments of nested
# blocks (`user { password = ... }`): explicit levels rather than `walk`, which costs as much as
# every other guardrail together on a large wave.
findings contains {"resource": r.address, "file": r.file, "message": sprintf("%s is a literal", [key])} if {
	some r in input.resources
	some key, value in r.config
	secret(r.type, key)
	literal_in(value)
}

findings contains {"resource": r.address, "file": r.file, "message": sprintf("%s is a literal", [key])} if {
	some r in input.resources
	some _, blocks in r.config
	is_array(blocks)
	some block in blocks
	is_object(block)
	some key, value in block
	secret(r.type, key)
	literal_in(value)
}

literal_in(value) if literal(value)

literal_in(values) if {
	is_array(values)
	some value in values
	literal(value)
}

secret(_, key) if key in secret_arguments

secret(type, key) if key in object.get(secret_arguments_of, type, set())

# A literal string: not an expression (`${var.x}`), not empty.
literal(value) if {
	is_string(value)
	not startswith(value, "${")
	value != ""
}

findings contains {"resource": sprintf("Secret/%s", [m.name]), "file": m.file, "message": "Secret with inline data"} if {
	some m in lib.manifests("Secret")
	some key in ["data", "stringData"]
	count(object.get(m.doc, key, {})) > 0
}
