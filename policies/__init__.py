"""The Rego policy pack: source migratability (source/) and IaC guardrails (iac/)."""
