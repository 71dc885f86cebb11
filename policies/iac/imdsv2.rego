# IMDSv2 required: Instances require session tokens for the metadata service (IMDSv2), which blunts SSRF credential theft.
package migrator.iac.imdsv2

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-IMDSV2",
	"severity": "critical",
	"title": "IMDSv2 required",
	"description": "Instances require session tokens for the metadata service (IMDSv2), which blunts SSRF credential theft.",
	"remediation": "Add a metadata_options block with http_tokens = required to the instance.",
	"applies_to": ["terraform"],
}

findings contains {"resource": r.address, "file": r.file, "message": "instance metadata does not require IMDSv2 tokens"} if {
	some r in lib.resources("aws_instance")
	object.get(lib.first_block(r.config, "metadata_options"), "http_tokens", "optional") != "required"
}
