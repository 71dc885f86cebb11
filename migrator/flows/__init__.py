"""Flow evidence: observed connections between machines, from files or an IPFIX/NetFlow collector."""
