"""Cutover and rollback runbooks for a wave of the terraform-openstack target (PLAN.md).

The same steps, order and quoting as the other Terraform targets (migrator/review/runbooks.py
`cloud_cutover`): clients stop before their servers, servers come back first, every name passes
through shlex. The commands are the OpenStack client's (`openstack server ...`) on the IDs the
root module outputs, with the credentials of the user's clouds.yaml (OS_CLOUD); migrator never
runs them.
"""

from __future__ import annotations

from migrator.review.runbooks import CloudCommands

_INSTANCE_IDS = "$(terraform output -json instance_ids | jq -r '.[]')"

OPENSTACK = CloudCommands(
    name="OpenStack",
    prepare_title="Before the window: fill in the variables and give each VM its replicated disk as an image",
    prepare_note=(
        "Set `network_ids`, `image_ids`, `key_pair`, `volume_type` and `availability_zone` in "
        "`terraform.tfvars` (credentials from clouds.yaml and `OS_CLOUD`, never a file here); "
        "give each VM the Glance image made from its replicated disk (`virt-v2v -o openstack`, "
        "or `openstack image create --disk-format raw --file DISK`) in `image_overrides`. Each "
        "instance boots from a new volume made from that image."
    ),
    verify_title="Verify: instances ACTIVE and the observed ports answering",
    verify=lambda v: [f'for id in {_INSTANCE_IDS}; do openstack server show -f value -c status "$id"; done'],
    stop_title="Stop the new instances so only one copy serves",
    stop=lambda v: [f"openstack server stop {_INSTANCE_IDS}"],
    destroy_note=(
        "Boot volumes are kept (delete_on_termination = false): delete them with "
        "`openstack volume delete` once nothing needs them. Writes made on the new instances "
        "since cutover are lost unless copied back first."
    ),
)
