"""Transpilers: golden output on the demo estate, determinism, names, and hostile inventory text.

Golden files live in fixtures/golden/iac; regenerate them with `make golden` after an intended
change and review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from hcl2.utils import SerializationOptions

from agents.validator import ValidatorOptions, validate_folder
from agents.validator.tf_builtin import provider_schema
from agents.validator.tf_module import literal
from tests.golden import check_golden_tree, workspace_with
from tests.helpers import migrator
from transpilers.escape import aws_tag_value, hcl_string, label_value, one_line
from transpilers.model import NetworkInput, SpreadSet, TargetOptions, Traffic, VMInput, WaveInput
from transpilers.naming import DNS1123_MAX, dns_names, tf_names
from transpilers.registry import TRANSPILERS
from transpilers.terraform_google import gce_label

KUBEVIRT_FLAGS = (
    "--vddk-url",
    "https://vcenter.example/sdk",
    "--vddk-thumbprint",
    "AA:BB:CC",
    "--executor",
    "cdi",
)
HOSTILE = [
    'quote " and backslash \\ end',
    '${file("/etc/passwd")} and %{ if true }x%{ endif }',
    "line one\nline two\r\n\ttabbed",
    "&anchor *alias !!python/object:os.system [a, b] {c: d} # not a comment",
    "zero\u200bwidth \u202eoverride\u2066 bell\u0007 nul-free",
    "ünïcødé 日本語 emoji 🚀",
    "x" * 5000,
    "$${already} %%{doubled}",
]


@pytest.fixture(scope="module")
def demo_plan_ws(tmp_path_factory: pytest.TempPathFactory) -> Path:
    ws = workspace_with(tmp_path_factory.mktemp("ws"), "demo.json", "demo-flows.csv")
    assert migrator("waves", "plan", workspace=ws).code == 0
    return ws


def generate(ws: Path, target: str, out: Path, *extra: str) -> dict[str, Any]:
    flags = KUBEVIRT_FLAGS if target == "kubevirt" else ()
    result = migrator(
        "plan", "--target", target, "--out", str(out), "--format", "json", *flags, *extra, workspace=ws
    )
    assert result.code == 0, result.stderr
    report: dict[str, Any] = result.json()
    return report


@pytest.mark.parametrize("target", sorted(TRANSPILERS))
def test_demo_output_matches_golden(demo_plan_ws: Path, tmp_path: Path, target: str) -> None:
    report = generate(demo_plan_ws, target, tmp_path)
    assert [w["status"] for w in report["waves"]] == ["clean"] * 3
    assert all(w["errors"] == 0 for w in report["waves"])
    check_golden_tree(f"iac/{target}", tmp_path / target)


@pytest.mark.parametrize("target", sorted(TRANSPILERS))
def test_output_is_byte_identical_across_runs(demo_plan_ws: Path, tmp_path: Path, target: str) -> None:
    generate(demo_plan_ws, target, tmp_path / "a")
    generate(demo_plan_ws, target, tmp_path / "b")
    files_a = {
        p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()
    }
    files_b = {
        p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()
    }
    assert files_a == files_b and len(files_a) > 10


def test_registry_metadata_is_complete() -> None:
    assert set(TRANSPILERS) == {
        "terraform-aws",
        "kubevirt",
        "terraform-azure",
        "terraform-google",
        "terraform-openstack",
    }
    for key, t in TRANSPILERS.items():
        assert t.meta.id == key
        assert t.meta.language in ("terraform", "kubernetes")
        assert t.meta.version and t.meta.target and t.meta.description


def test_every_emitted_resource_type_is_in_the_schema_subset(demo_plan_ws: Path, tmp_path: Path) -> None:
    generate(demo_plan_ws, "terraform-aws", tmp_path)
    options = SerializationOptions(with_comments=False)
    types = set()
    for tf in (tmp_path / "terraform-aws").rglob("*.tf"):
        for entry in hcl2.loads(tf.read_text(encoding="utf-8"), serialization_options=options).get(
            "resource", []
        ):
            types |= {literal(k) for k in entry}
    assert types >= {"aws_instance", "aws_ebs_volume", "aws_volume_attachment", "aws_security_group"}
    assert types <= set(provider_schema()["resources"])


def test_dns_names_are_valid_stable_and_unique() -> None:
    names = [
        "Lagerverwaltung Prüfstand 01",
        "a b",
        "a-b",
        "A B",
        "x" * 80,
        "日本",
        "-lead-",
        "web 01",
        "web-01",
    ]
    slugs = dns_names(names)
    assert len(set(slugs.values())) == len(names)
    for slug in slugs.values():
        assert len(slug) <= DNS1123_MAX and slug == slug.lower()
        assert (
            slug[0].isalnum()
            and slug[-1].isalnum()
            and set(slug) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")
        )
    assert slugs["Lagerverwaltung Prüfstand 01"] == "lagerverwaltung-prufstand-01"
    # a name's identifier does not depend on which other names are present, unless they collide
    assert dns_names(["Lagerverwaltung Prüfstand 01"]) == {"Lagerverwaltung Prüfstand 01": slugs[names[0]]}
    assert slugs["web 01"] != slugs["web-01"] and slugs["web 01"].startswith("web-01-")


def test_terraform_names_are_valid_identifiers() -> None:
    ids = tf_names(["1st server", "a b", "a_b", "Straße", "日本"])
    assert ids["1st server"] == "n_1st_server" and ids["Straße"] == "strasse"
    assert len(set(ids.values())) == 5
    for ident in ids.values():
        assert ident[0].isalpha() and all(c.isalnum() or c in "_-" for c in ident)


@pytest.mark.parametrize("text", HOSTILE)
def test_hcl_strings_round_trip_through_a_real_parser(text: str) -> None:
    parsed = hcl2.loads(
        f"x = {hcl_string(text)}\n", serialization_options=SerializationOptions(with_comments=False)
    )
    assert literal(parsed["x"]) == text
    assert "${" not in hcl_string(text).replace("$${", "")  # never an interpolation


@pytest.mark.parametrize("text", HOSTILE)
def test_sanitised_values_keep_to_their_grammar(text: str) -> None:
    tag = aws_tag_value(text)
    assert len(tag) <= 256 and all(c.isalnum() or c in " +-=._:/@" for c in tag)
    label = label_value(text)
    assert len(label) <= 63 and all(c.isalnum() or c in "._-" for c in label) and label.isascii()
    line = one_line(text)
    assert "\n" not in line and "\u200b" not in line and len(line) <= 256


def hostile_wave() -> WaveInput:
    vms = []
    for i, text in enumerate(HOSTILE):
        record = {
            "name": text,
            "moref": f"vm-{i}",
            "instance_uuid": f"uuid-{i}",
            "bios_uuid": f"bios-{i}",
            "num_cpu": 2,
            "cores_per_socket": 1,
            "memory_mb": 4096,
            "guest_id": text[:40],
            "firmware": "efi",
            "secure_boot": True,
            "power_state": "poweredOn",
            "disks": [
                {"label": "d0", "capacity_gb": 10, "file": f"[ds] {text}/disk.vmdk", "datastore": "ds"}
            ],
            "nics": [{"network": text, "mac": "00:50:56:00:00:0" + str(i), "vlan": 100 + i}],
            "custom_fields": {"app": text, "env": text},
        }
        sizing = {
            "os_family": "linux",
            "vcpu": 2,
            "memory_mb": 4096,
            "aws": {"instance_type": "m6i.large"},
            "kubevirt": {
                "cores": 2,
                "memory_guest": "4096Mi",
                "cpu_request": "2000m",
                "memory_request": "4096Mi",
            },
        }
        vms.append(VMInput(text, record, sizing, text, text, "db" if i % 2 else "web", (f"10.0.0.{i + 1}",)))
    names = [vm.name for vm in vms]
    traffic = (Traffic(names[0], names[1], ("tcp/5432",), ("10.0.0.1",)),)
    spread = (SpreadSet(HOSTILE[1], "drs-anti-affinity", (names[0], names[1]), True),)
    networks = {n: NetworkInput(n, 100 + i) for i, n in enumerate(names)}
    return WaveInput(1, HOSTILE[2], tuple(vms), traffic, spread, networks, dict.fromkeys(names, 1))


@pytest.mark.parametrize("target", sorted(TRANSPILERS))
def test_hostile_inventory_text_yields_valid_inert_code(tmp_path: Path, target: str) -> None:
    rendered = TRANSPILERS[target].render(
        hostile_wave(), TargetOptions(vddk_url="https://vc/sdk", vddk_thumbprint="AA", executor="cdi")
    )
    for name, text in rendered.files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert "\u200b" not in text.split("\n", 1)[0]
    report = validate_folder(tmp_path, ValidatorOptions(use_tools=False))
    assert report.counts["error"] == 0, [d.message for d in report.diagnostics]
    if target.startswith("terraform-"):
        main = hcl2.loads((tmp_path / "main.tf").read_text(encoding="utf-8"))
        kind = {
            "terraform-aws": "aws_instance",
            "terraform-azure": "azurerm_linux_virtual_machine",
            "terraform-openstack": "openstack_compute_instance_v2",
            "terraform-google": "google_compute_instance",
        }[target]
        google = target == "terraform-google"  # GCE labels: lowercase keys, escaped values
        instances = [v for entry in main["resource"] for k, v in entry.items() if literal(k) == kind]
        assert len(instances) == len(HOSTILE)
        for instance in instances:
            body = next(iter(instance.values()))
            block = "labels" if google else ("tags" if "tags" in body else "metadata")  # OpenStack: metadata
            tags = {literal(k): v for k, v in body[block].items()}
            for value in tags.values():
                assert not str(value).startswith("${")  # every tag is a literal, never an expression
            if google:
                assert literal(tags["name"]) in {gce_label(t) for t in HOSTILE}
            else:  # (OpenStack: Nova's metadata values hold 255 characters)
                assert literal(tags["Name"]) in {aws_tag_value(t)[:n] for t in HOSTILE for n in (255, 256)}
    else:
        docs = [
            d for f in tmp_path.glob("vm-*.yaml") for d in yaml.safe_load_all(f.read_text(encoding="utf-8"))
        ]
        vms = [d for d in docs if d["kind"] == "VirtualMachine"]
        assert len(vms) == len(HOSTILE)
        assert {v["metadata"]["annotations"]["migrator.io/source-name"] for v in vms} == {
            one_line(t) for t in HOSTILE
        }
        backing = {d["spec"]["source"]["vddk"]["backingFile"] for d in docs if d["kind"] == "DataVolume"}
        assert backing == {f"[ds] {t}/disk.vmdk" for t in HOSTILE}  # the exact path, safely quoted


def test_blocked_vms_are_left_out_and_reported(demo_plan_ws: Path, tmp_path: Path) -> None:
    inventory = json.loads(
        (Path(__file__).parents[1] / "fixtures/inventories/demo.json").read_text(encoding="utf-8")
    )
    for vm in inventory["vms"]:
        if vm["name"] == "dns-01":
            vm["passthrough_devices"] = 1
    path = tmp_path / "inv.json"
    path.write_text(json.dumps(inventory), encoding="utf-8")
    ws = tmp_path / "ws"
    assert migrator("import", "inventory", str(path), workspace=ws).code == 0
    assert (
        migrator(
            "import", "flows", str(Path(__file__).parents[1] / "fixtures/flows/demo-flows.csv"), workspace=ws
        ).code
        == 0
    )
    assert migrator("waves", "plan", workspace=ws).code == 0
    report = generate(ws, "terraform-aws", tmp_path / "out")
    wave = next(w for w in report["waves"] if w["blocked"])
    folder = Path(wave["out_dir"])
    assert "dns_01" not in (folder / "main.tf").read_text(encoding="utf-8")
    text = (folder / "REPORT.md").read_text(encoding="utf-8")
    assert "## Blocked VMs (not written)" in text and "dns-01: SRC-PASSTHROUGH" in text


def test_observed_peers_are_joined_into_exact_blocks() -> None:
    """A port's observed /32s become the fewest blocks holding exactly those addresses (a block
    only where every address in it was observed); group references, port ranges, edited rules
    and lone addresses are kept, in their place."""
    from transpilers.security_groups import IngressRule, collapsed

    observed = [IngressRule("db-all", "tcp", 5432, None, f"10.0.0.{i}/32") for i in (4, 5, 6, 7, 9)]
    rules = [
        IngressRule("db-all", "tcp", 22, "web-all", None),
        *observed,
        IngressRule("db-all", "tcp", 5432, None, "2001:db8::/128"),
        IngressRule("db-all", "tcp", 5432, None, "2001:db8::1/128"),
        IngressRule("db-all", "tcp", 6000, None, "10.0.0.8/32", last_port=6010),
        IngressRule("db-all", "udp", 53, None, "10.0.0.10/32", why="edited"),
        IngressRule("db-all", "udp", 53, None, "10.0.0.11/32"),
    ]
    assert [(r.port, r.peer_group, r.cidr, r.last_port, r.why) for r in collapsed(rules)] == [
        (22, "web-all", None, None, "observed"),
        (5432, None, "10.0.0.4/30", None, "observed"),
        (5432, None, "10.0.0.9/32", None, "observed"),
        (5432, None, "2001:db8::/127", None, "observed"),
        (6000, None, "10.0.0.8/32", 6010, "observed"),
        (53, None, "10.0.0.10/32", None, "edited"),
        (53, None, "10.0.0.11/32", None, "observed"),
    ]


def test_aws_rules_admit_exactly_the_observed_peers(tmp_path: Path) -> None:
    """A service reached from many VMs of other waves gets one rule per exact block, not per
    peer; a plan edit that removes one peer's /32 still removes just that address."""
    import ipaddress

    from transpilers.security_groups import tier_key
    from waves.edits import PortRule

    wave = hostile_wave()
    server = wave.vms[0]
    peers = [f"peer-{i}" for i in range(64)]
    traffic = tuple(Traffic(p, server.name, ("udp/53",), (f"10.1.0.{i}",)) for i, p in enumerate(peers))
    remove = PortRule(
        action="remove",
        wave=1,
        group=tier_key(server),
        cidr="10.1.0.5/32",
        protocol="udp",
        from_port=53,
        to_port=53,
    )
    wave = WaveInput(
        1, "w", wave.vms, traffic, (), wave.networks, {**wave.wave_of, **dict.fromkeys(peers, 2)}
    )
    for edits, expected in (
        ((), {"10.1.0.0/26"}),
        (
            (remove,),
            {"10.1.0.0/30", "10.1.0.4/32", "10.1.0.6/31", "10.1.0.8/29", "10.1.0.16/28", "10.1.0.32/27"},
        ),
    ):
        rendered = TRANSPILERS["terraform-aws"].render(
            WaveInput(**{**wave.__dict__, "port_rules": edits}), TargetOptions()
        )
        rules = [
            body
            for block in hcl2.loads(rendered.files["main.tf"])["resource"]
            for kind, named in block.items()
            if literal(kind) == "aws_vpc_security_group_ingress_rule"
            for body in named.values()
            if body["from_port"] == 53
        ]
        cidrs = {literal(r["cidr_ipv4"]) for r in rules}
        assert cidrs == expected
        admitted = {a for cidr in cidrs for a in ipaddress.ip_network(cidr)}
        assert admitted == {ipaddress.ip_address(f"10.1.0.{i}") for i in range(64) if not (edits and i == 5)}
