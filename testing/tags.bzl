"""Tags for tests that need more than a sandbox gives them.

A remote worker (README, "Remote execution") runs each action in bubblewrap as root
without capabilities, with no network and its inputs as /: a test tagged
`no-remote-exec` runs on the machine that runs Bazel instead, its result still shared
through the remote cache. Where Bazel's own linux-sandbox works (a privileged container,
as the CI recipes' jobs are), it gives a test a read-only root and a user namespace
without capabilities over the machine: a test tagged `no-sandbox` runs unsandboxed.
"""

# Runs the image in containers (podman, runc, skopeo's containers-storage): needs a
# container runtime, subordinate ids, and the machine's /run and /var/tmp to write.
CONTAINERS = ["no-remote-exec", "no-sandbox"]

# Makes namespaces of its own (network namespaces, bubblewrap, testing/readonly_exec.py's
# read-only mounts and uid switch): needs capabilities both sandboxes drop.
NAMESPACES = ["no-remote-exec", "no-sandbox"]

# Reads Debian's archive: the sandbox has no network.
NETWORK = ["no-remote-exec", "requires-network"]

# Looks for this machine's output base in the outputs: needs Bazel's local execroot.
LOCAL_PATHS = ["no-remote-exec"]
