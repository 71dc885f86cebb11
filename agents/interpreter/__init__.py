"""The interpreter agent: turn free-text migration intent into structured, safety-checked plan inputs."""
