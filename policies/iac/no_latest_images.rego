# No latest or untagged images: Every container image (VDDK init image, Forklift provider VDDK image, container disks) is pinned to a tag or digest other than latest.
package migrator.iac.no_latest_images

import data.migrator.lib
import rego.v1

metadata := {
	"id": "IAC-NO-LATEST-IMAGES",
	"severity": "warning",
	"title": "No latest or untagged images",
	"description": "Every container image (VDDK init image, Forklift provider VDDK image, container disks) is pinned to a tag or digest other than latest.",
	"remediation": "Pin the image: registry/vddk:8.0.3 or an @sha256 digest.",
	"applies_to": ["kubernetes"],
	"scope": "any",
}

findings contains {"resource": sprintf("%s/%s", [m.kind, m.name]), "file": m.file, "message": sprintf("image %s is latest or untagged", [image])} if {
	some m in input.manifests
	walk(m.doc, [path, image])
	count(path) > 0
	path[count(path) - 1] in {"image", "initImageURL", "vddkInitImage"}
	is_string(image)
	floating(image)
}

floating(image) if endswith(image, ":latest")

floating(image) if {
	not contains(image, "@")
	parts := split(image, "/")
	not contains(parts[count(parts) - 1], ":")
}
