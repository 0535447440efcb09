"""What the executable rules (oci_push, cosign_sign, cosign_attest) share about registries:
where a repository's registry is, whether it is on loopback, where credentials are, and
where the signing key is."""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path

DOCKER_HUB = ("docker.io", "index.docker.io")


class RegistryError(Exception):
    """A repository or path given by the user is unusable; the message is one line."""


def read_lines(path: Path) -> list[str]:
    """Returns the non-blank, stripped lines of PATH."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def user_path(path: Path) -> Path:
    """Resolves PATH against the directory `bazel run` was called from (else the current one)."""
    return Path(os.environ.get("BUILD_WORKING_DIRECTORY", ".")) / path


def key_reference(key: str) -> str:
    """Returns the cosign key reference for KEY: URIs (env://, k8s://, a KMS) as they are,
    a file resolved where `bazel run` was called and checked to exist."""
    if "://" in key or key.startswith("pkcs11:"):
        return key
    path = user_path(Path(key)).absolute()
    if not path.is_file():
        raise RegistryError(f"no signing key at {path} (./bazelw sees only the checkout: keep the key there, "
                            f"git-ignored, or pass env://VAR)")
    return str(path)


def check_repository(repository: str | None) -> str:
    """Returns REPOSITORY when it is REGISTRY/NAME without tag or digest; else fails in one line."""
    if not repository:
        raise RegistryError("no repository: set `repository` on the rule or pass --repository")
    if "@" in repository or ":" in repository.rpartition("/")[2]:
        raise RegistryError(f"repository {repository!r} must not carry a tag or digest; use --tag")
    return repository


def registry_address(repository: str) -> tuple[str, int | None]:
    """Returns (host, port or None) of the registry named by REPOSITORY."""
    first, slash, _ = repository.partition("/")
    if not slash or not ("." in first or ":" in first or first == "localhost"):
        return "registry-1.docker.io", 443
    if first in DOCKER_HUB:
        return "registry-1.docker.io", 443
    if first.startswith("["):
        host, _, rest = first[1:].partition("]")
        port = rest.removeprefix(":")
    else:
        host, _, port = first.rpartition(":") if first.count(":") == 1 else (first, "", "")
    if port and not port.isdigit():
        raise RegistryError(f"invalid registry port in {repository!r}")
    return host, int(port) if port else None


def is_loopback(host: str) -> bool:
    """Tells whether HOST names a loopback address."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def auth_file() -> str | None:
    """Returns the credentials file to use: $REGISTRY_AUTH_FILE, else ~/.docker/config.json if present."""
    configured = os.environ.get("REGISTRY_AUTH_FILE")
    if configured:
        return configured
    docker = Path.home() / ".docker" / "config.json"
    return str(docker) if docker.is_file() else None
