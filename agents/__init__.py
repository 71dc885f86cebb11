"""Agents: the validator pipeline and the transpiler agent that regenerates until output is clean."""
