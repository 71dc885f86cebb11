"""Transpilers: a planned wave in, infrastructure code out (Terraform for AWS, KubeVirt YAML)."""
