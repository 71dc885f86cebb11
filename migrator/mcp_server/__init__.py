"""`migrator mcp`: the Model Context Protocol front end (docs/mcp.md)."""
