"""RVTools xlsx import."""
