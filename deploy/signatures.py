"""Policies that run the workload only when it is signed with the release key.

cluster_policy() is the admission policy for a cluster (Kyverno's verifyImages):
deploy/release.py writes it after the Deployment when it signs. podman_policy() and
registries_d() are a podman (or CRI-O) node's `policy.json` and `registries.d` entry:
sigstoreSigned for the repository, the rest refused. Signatures are cosign's, made with
a key and no transparency log (oci/private/cosign_image.py), so neither policy asks
Rekor or a certificate authority.
"""

import base64
from typing import Dict, List

from render import NAME


def _scope(repository: str) -> List[str]:
    """Kyverno image patterns for every tag and digest of REPOSITORY, and nothing else."""
    return [f"{repository}:*", f"{repository}@*"]


def cluster_policy(repository: str, public_key: str) -> Dict[str, object]:
    """A Kyverno ClusterPolicy admitting a Pod's images from REPOSITORY only when signed
    by PUBLIC_KEY (PEM); tags are resolved to the signed digest."""
    key = {"publicKeys": public_key, "rekor": {"ignoreTlog": True}, "ctlog": {"ignoreSCT": True}}
    return {
        "apiVersion": "kyverno.io/v1",
        "kind": "ClusterPolicy",
        "metadata": {"name": f"{NAME}-signed", "labels": {"app.kubernetes.io/name": NAME}},
        "spec": {
            "background": False,
            "webhookConfiguration": {"failurePolicy": "Fail", "timeoutSeconds": 30},
            "rules": [{
                "name": "signed-by-the-release-key",
                "match": {"any": [{"resources": {"kinds": ["Pod"]}}]},
                "verifyImages": [{
                    "imageReferences": _scope(repository),
                    "failureAction": "Enforce",
                    "required": True,
                    "mutateDigest": True,
                    "verifyDigest": True,
                    "attestors": [{"count": 1, "entries": [{"keys": key}]}],
                }],
            }],
        },
    }


def podman_policy(repository: str, public_key: str) -> Dict[str, object]:
    """containers-policy.json(5): images of REPOSITORY need a sigstore signature by
    PUBLIC_KEY (PEM) naming that repository; every other image is refused."""
    requirement = {
        "type": "sigstoreSigned",
        "keyData": base64.b64encode(public_key.encode()).decode(),
        "signedIdentity": {"type": "matchRepository"},
    }
    return {"default": [{"type": "reject"}], "transports": {"docker": {repository: [requirement]}}}


def registries_d(repository: str) -> str:
    """containers-registries.d(5) YAML: read REPOSITORY's signatures from cosign's tags."""
    return f"docker:\n  {repository}:\n    use-sigstore-attachments: true\n"
