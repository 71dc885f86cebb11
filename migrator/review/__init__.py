"""Plans as pull requests: PLAN.md, the plans repository, PR records, forges and guarded merges."""
