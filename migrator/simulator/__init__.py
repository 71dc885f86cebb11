"""A real vCenter API for tests, the demo and benchmarks: govmomi's vcsim, built from
Debian packages, started on a free port and seeded with an estate through the API."""
