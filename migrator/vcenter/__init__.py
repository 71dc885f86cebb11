"""Read-only access to vCenter: connection, bulk property retrieval, performance, tags."""
