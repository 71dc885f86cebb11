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

# Which arguments hold a secret is what the provider schema marks `sensitive`. For the hashicorp/aws
# resource types (and aws provider block) it covers, the input carries that list as the
# resource's `sensitive` (agents/data/aws-sensitive-attributes.json, from the pulumi-aws SDK) and
# it alone decides: `global_endpoint_token_version` is a version switch, `insecure_value` the
# non-sensitive twin of `value`. Elsewhere (other providers, nested blocks, which the data does not
# mark) only these names count, exactly, never a part of a name. Provenance: docs/validate.md.
fallback_secret_arguments := {
	"password", "passwords", "master_password",
	"secret_key", "private_key", "auth_token", "client_secret",
}

# The token of a provider block the data does not cover (`provider "vault"`, a forge's provider).
fallback_provider_secret_arguments := {"token"}

# The argument itself, each element of a list argument (`passwords`), and the arguments of nested
# blocks (`user { password = ... }`): explicit levels rather than `walk`, which costs as much as
# every other guardrail together on a large wave.
findings contains {"resource": r.address, "file": r.file, "message": sprintf("%s is a literal", [key])} if {
	some r in input.resources
	some key, value in r.config
	secret(r, key)
	literal_in(value)
}

findings contains {"resource": r.address, "file": r.file, "message": sprintf("%s is a literal", [key])} if {
	some r in input.resources
	some _, blocks in r.config
	is_array(blocks)
	some block in blocks
	is_object(block)
	some key, value in block
	key in fallback_secret_arguments
	literal_in(value)
}

literal_in(value) if literal(value)

literal_in(values) if {
	is_array(values)
	some value in values
	literal(value)
}

secret(r, key) if key in r.sensitive

secret(r, key) if {
	not r.sensitive
	key in fallback_secret_arguments
}

secret(r, key) if {
	not r.sensitive
	r.type == "provider"
	key in fallback_provider_secret_arguments
}

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
