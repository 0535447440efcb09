"""The kit's test helpers, one of each: free ports (ports), private podman stores and
the workload's container runner (podman), a real registry on loopback (registry)."""
