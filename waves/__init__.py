"""Planning: the dependency graph, affinity analysis, migration waves, right-sizing and cost.

Reads only the inventory export contract (docs/inventory-export.md) and flow evidence; the CLI
in migrator/cli/{graph,waves,size}_cmd.py is a thin layer over `plan_waves` and `size_vms`.
"""
