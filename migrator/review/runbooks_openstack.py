"""Cutover and rollback runbooks for a wave of the terraform-openstack target (PLAN.md).

The same order and quoting as the other runbooks (migrator/review/runbooks.py): clients stop
before their servers, servers come back first, every name passes through shlex. The commands
are the OpenStack client's (`openstack server ...`) on the IDs the root module outputs, with the
credentials of the user's clouds.yaml (OS_CLOUD); migrator never runs them.
"""

from __future__ import annotations

from migrator.review.runbooks import (
    Step,
    WaveView,
    _govc_power,
    _nc,
    _ports,
    _repoint,
    _source_checks,
    _tf_expected,
    q,
)

_INSTANCE_IDS = "$(terraform output -json instance_ids | jq -r '.[]')"


def openstack_cutover(v: WaveView, files: dict[str, str]) -> list[Step]:
    plan_file = f"wave-{v.wave.number:02d}.tfplan"
    ip_of = "\"$(terraform output -json private_ips | jq -r --arg vm {vm} '.[$vm]')\""
    checks = [_nc(proto, ip_of.format(vm=q(vm)), port) for vm in v.placed for proto, port in _ports(v, vm)]
    return [
        Step(
            "Before the window: fill in the variables and give each VM its replicated disk as an image",
            [f"cd {q(v.folder)}", "cp terraform.tfvars.example terraform.tfvars"],
            [
                "Set `network_ids`, `image_ids`, `key_pair`, `volume_type` and `availability_zone` in "
                "`terraform.tfvars` (credentials from clouds.yaml and `OS_CLOUD`, never a file here); "
                "give each VM the Glance image made from its replicated disk (`virt-v2v -o openstack`, "
                "or `openstack image create --disk-format raw --file DISK`) in `image_overrides`. Each "
                "instance boots from a new volume made from that image.",
            ],
        ),
        Step(
            "Initialise and save the plan; review it",
            ["terraform init -input=false", f"terraform plan -input=false -out={plan_file}"],
            [f"Expect {_tf_expected(files)} resource(s) to add and nothing to change or destroy."],
        ),
        Step(
            "Stop the source VMs (clients before the servers they use), then take the final sync",
            _govc_power(v, list(reversed(v.placed)), "-s"),
        ),
        Step("Apply the saved plan", [f"terraform apply -input=false {plan_file}"]),
        Step(
            "Verify: instances ACTIVE and the observed ports answering",
            [
                "terraform output -json private_ips",
                f'for id in {_INSTANCE_IDS}; do openstack server show -f value -c status "$id"; done',
                *checks,
            ],
        ),
        _repoint(v, back=False),
    ]


def openstack_rollback(v: WaveView) -> list[Step]:
    return [
        _repoint(v, back=True),
        Step(
            "Stop the new instances so only one copy serves",
            [f"cd {q(v.folder)}", f"openstack server stop {_INSTANCE_IDS}"],
        ),
        Step("Power the source VMs back on (servers first)", _govc_power(v, v.placed, "-on")),
        Step("Verify the source VMs serve again", _source_checks(v) or ["# no observed ports to check"]),
        Step(
            "Only after the decision is final: remove the wave's OpenStack resources",
            [
                "terraform plan -destroy -input=false -out=destroy.tfplan",
                "terraform apply -input=false destroy.tfplan",
            ],
            [
                "Boot volumes are kept (delete_on_termination = false): delete them with "
                "`openstack volume delete` once nothing needs them. Writes made on the new instances "
                "since cutover are lost unless copied back first."
            ],
        ),
    ]
