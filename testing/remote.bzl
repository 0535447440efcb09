"""Tags for tests that a remote worker's sandbox cannot run (README, "Remote execution").

With --config=remote, a test carrying one of these runs on the machine that runs Bazel,
as without it; its result is still shared through the remote cache. A worker runs each
action in bubblewrap as root without capabilities, with no network and its inputs as /.
"""

# Runs the image in containers (podman, runc, skopeo's containers-storage): needs a
# container runtime and subordinate ids.
CONTAINERS = ["no-remote-exec"]

# Makes namespaces of its own (network namespaces, bubblewrap, testing/readonly_exec.py's
# read-only mounts and uid switch): needs capabilities the sandbox drops.
NAMESPACES = ["no-remote-exec"]

# Reads Debian's archive: the sandbox has no network.
NETWORK = ["no-remote-exec", "requires-network"]

# Looks for this machine's output base in the outputs: needs Bazel's local execroot.
LOCAL_PATHS = ["no-remote-exec"]
