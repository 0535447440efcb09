"""Downloads the layers of a build-root image from a registry: pull.py REF DIR

REF is REGISTRY/NAME@sha256:DIGEST (as BAZELW_ROOT_IMAGE names it). Reads the manifest
(the linux/amd64 one of an index), checks it and every layer against their digests, and
writes the layers to DIR as 0.tar.gz, 1.tar.gz, ...; prints their paths in order. Signs
in with the credentials of $REGISTRY_AUTH_FILE or ~/.docker/config.json, if any, by
HTTP Basic or a bearer token as the registry asks. Registries on loopback are spoken to
over plain HTTP, all others over HTTPS.
"""

import base64
import hashlib
import json
import os
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional, Tuple

MANIFEST_TYPES = ", ".join([
    "application/vnd.oci.image.index.v1+json", "application/vnd.oci.image.manifest.v1+json",
    "application/vnd.docker.distribution.manifest.list.v2+json",
    "application/vnd.docker.distribution.manifest.v2+json"])
REFERENCE = re.compile(r"^(?P<registry>[^/]+)/(?P<name>[^@]+)@(?P<digest>sha256:[0-9a-f]{64})$")
CHUNK = 1 << 20


class PullError(Exception):
    """The image cannot be had: one line saying why."""


def parse(reference: str) -> Tuple[str, str, str]:
    """(registry, name, digest) of REGISTRY/NAME@sha256:DIGEST."""
    match = REFERENCE.match(reference)
    if not match:
        raise PullError(f"{reference!r} is not REGISTRY/NAME@sha256:DIGEST (pin the image by digest)")
    return match["registry"], match["name"], match["digest"]


def credentials(registry: str) -> Optional[str]:
    """The base64 user:password the auth file holds for REGISTRY, if any."""
    for path in [os.environ.get("REGISTRY_AUTH_FILE", ""), str(Path.home() / ".docker" / "config.json")]:
        if path and Path(path).is_file():
            entry = json.loads(Path(path).read_text()).get("auths", {}).get(registry, {})
            if entry.get("auth"):
                return entry["auth"]
    return None


class Registry:
    """One registry's API v2 for one repository, with the sign-in it asks for."""

    def __init__(self, registry: str, name: str) -> None:
        loopback = registry.split(":")[0] in ("localhost", "127.0.0.1", "[::1]")
        self.base = f"{'http' if loopback else 'https'}://{registry}/v2/{name}"
        self.registry = registry
        self.authorization: Optional[str] = None

    def _sign_in(self, challenge: str) -> None:
        basic = credentials(self.registry)
        if challenge.lower().startswith("basic"):
            if not basic:
                raise PullError(f"{self.registry} wants a password: sign in to it in $REGISTRY_AUTH_FILE")
            self.authorization = "Basic " + basic
            return
        fields = dict(re.findall(r'(\w+)="([^"]*)"', challenge))
        query = urllib.parse.urlencode({k: v for k, v in fields.items() if k in ("service", "scope")})
        request = urllib.request.Request(f"{fields.get('realm', '')}?{query}")
        if basic:
            request.add_header("Authorization", "Basic " + basic)
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            token = json.load(response)
        self.authorization = "Bearer " + (token.get("token") or token.get("access_token", ""))

    def open(self, path: str, accept: str = ""):
        """GET base/PATH, signing in once if the registry asks."""
        for attempt in (0, 1):
            request = urllib.request.Request(f"{self.base}/{path}")
            if accept:
                request.add_header("Accept", accept)
            if self.authorization:
                request.add_header("Authorization", self.authorization)
            try:
                return urllib.request.urlopen(request, timeout=60)  # noqa: S310
            except urllib.error.HTTPError as error:
                if error.code == 401 and attempt == 0 and error.headers.get("WWW-Authenticate"):
                    self._sign_in(error.headers["WWW-Authenticate"])
                    continue
                raise PullError(f"{self.base}/{path}: HTTP {error.code} {error.reason}") from None
            except OSError as error:
                raise PullError(f"{self.base}/{path}: {error}") from None
        raise PullError(f"{self.registry} refused the credentials")

    def manifest(self, digest: str) -> Dict:
        """The manifest DIGEST names (checked), or its linux/amd64 one if it is an index."""
        with self.open(f"manifests/{digest}", MANIFEST_TYPES) as response:
            body = response.read()
        if "sha256:" + hashlib.sha256(body).hexdigest() != digest:
            raise PullError(f"the registry's manifest does not have the digest {digest}")
        document = json.loads(body)
        if "manifests" in document:
            for entry in document["manifests"]:
                platform = entry.get("platform", {})
                if (platform.get("os"), platform.get("architecture")) == ("linux", "amd64"):
                    return self.manifest(entry["digest"])
            raise PullError(f"{digest} has no linux/amd64 image")
        return document

    def blob(self, digest: str, target: Path) -> None:
        """Writes blob DIGEST to TARGET, checking its digest."""
        sha = hashlib.sha256()
        with self.open(f"blobs/{digest}") as response, open(target, "wb") as out:
            while chunk := response.read(CHUNK):
                sha.update(chunk)
                out.write(chunk)
        if "sha256:" + sha.hexdigest() != digest:
            raise PullError(f"the layer {digest} arrived with another digest")


def pull(reference: str, directory: Path) -> List[Path]:
    """Downloads REFERENCE's layers into DIRECTORY; returns their paths in order."""
    registry_name, name, digest = parse(reference)
    registry = Registry(registry_name, name)
    layers = registry.manifest(digest)["layers"]
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for index, layer in enumerate(layers):
        if not layer["mediaType"].endswith(("tar+gzip", "tar.gzip")):
            raise PullError(f"layer {layer['digest']} is {layer['mediaType']}, not a gzip tar")
        print(f"bazelw: downloading layer {index + 1} of {len(layers)} ({layer['size'] >> 20} MiB)",
              file=sys.stderr, flush=True)
        registry.blob(layer["digest"], directory / f"{index}.tar.gz")
        paths.append(directory / f"{index}.tar.gz")
    return paths


def main(argv: List[str]) -> int:
    """Entry point."""
    if len(argv) != 2 or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    try:
        for path in pull(argv[0], Path(argv[1])):
            print(path)
    except PullError as error:
        print(f"bazelw: BAZELW_ROOT_IMAGE: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
