# IMDSv2 required: Instances and launch templates require session tokens for the metadata service (IMDSv2), which blunts SSRF credential theft.
package migrator.iac.imdsv2

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-IMDSV2",
	"severity": "critical",
	"title": "IMDSv2 required",
	"description": "Instances and launch templates require session tokens for the metadata service (IMDSv2), which blunts SSRF credential theft.",
	"remediation": "Add a metadata_options block with http_tokens = required to the instance or its launch template, or set aws_ec2_instance_metadata_defaults http_tokens = required.",
	"applies_to": ["terraform"],
	"scope": "any",
}

# An instance that sets nothing itself takes the setting from its launch template (judged below)
# or, without one, from the region's default when the folder sets it to required.
findings contains {"resource": r.address, "file": r.file, "message": "instance metadata does not require IMDSv2 tokens"} if {
	some r in lib.resources("aws_instance")
	object.get(lib.first_block(r.config, "metadata_options"), "http_tokens", inherited(r)) != "required"
}

findings contains {"resource": r.address, "file": r.file, "message": "launch template metadata does not require IMDSv2 tokens"} if {
	some r in lib.resources("aws_launch_template")
	object.get(lib.first_block(r.config, "metadata_options"), "http_tokens", region_default) != "required"
}

inherited(r) := "required" if {
	count(object.get(r.config, "launch_template", [])) > 0
} else := region_default

region_default := "required" if {
	some d in lib.resources("aws_ec2_instance_metadata_defaults")
	object.get(d.config, "http_tokens", "") == "required"
} else := "optional"
