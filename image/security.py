"""The workload's security settings (image/settings.json) as podman flags and Kubernetes fields."""

from typing import Dict, List

import image_settings

SETTINGS = image_settings.settings()["security"]
USER = image_settings.settings()["user"]

# Flags podman needs on these hosts (crun fails on their cgroup setup and rlimits).
PODMAN = ["podman", "--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def podman_run_flags() -> List[str]:
    """Returns the `podman run` flags that apply the settings (as production would)."""
    flags = ["--user", image_settings.user_spec()]
    if SETTINGS["read_only_root_filesystem"]:
        flags.append("--read-only")
    flags.append("--read-only-tmpfs=%s" % str(SETTINGS["writable_tmp"]).lower())
    flags += ["--tmpfs", SETTINGS["shm_tmpfs"]]
    flags += ["--cap-drop=%s" % cap for cap in SETTINGS["drop_capabilities"]]
    if not SETTINGS["allow_privilege_escalation"]:
        flags.append("--security-opt=no-new-privileges")
    return flags + LIMITS


def kubernetes_security_context() -> Dict[str, object]:
    """Returns the container securityContext a Kubernetes Deployment must carry."""
    return {
        "readOnlyRootFilesystem": SETTINGS["read_only_root_filesystem"],
        "runAsNonRoot": SETTINGS["run_as_non_root"],
        "runAsUser": USER["uid"],
        "runAsGroup": USER["gid"],
        "allowPrivilegeEscalation": SETTINGS["allow_privilege_escalation"],
        "capabilities": {"drop": list(SETTINGS["drop_capabilities"])},
    }
