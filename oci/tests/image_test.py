"""Checks the images, layers and tarball built by //oci/tests against the OCI spec and tools."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
import unittest
from pathlib import Path
from typing import Any

EPOCH = "1970-01-01T00:00:00Z"
TOOL_TIMEOUT = 60


def image_dir(variable: str) -> Path:
    """Returns the layout directory named by environment VARIABLE (a runfiles path)."""
    return Path(os.environ[variable]).resolve()


def blob(layout: Path, digest: str) -> bytes:
    """Returns the bytes of blob DIGEST in LAYOUT."""
    return (layout / "blobs" / "sha256" / digest.removeprefix("sha256:")).read_bytes()


def read_image(layout: Path) -> tuple[str, dict[str, Any], dict[str, Any]]:
    """Returns (manifest digest, manifest, config) of the one image in LAYOUT."""
    (descriptor,) = json.loads((layout / "index.json").read_bytes())["manifests"]
    manifest = json.loads(blob(layout, descriptor["digest"]))
    return descriptor["digest"], manifest, json.loads(blob(layout, manifest["config"]["digest"]))


def run(*command: str) -> subprocess.CompletedProcess[str]:
    """Runs COMMAND, bounded in time, capturing its output."""
    return subprocess.run(command, capture_output=True, text=True, timeout=TOOL_TIMEOUT, check=False)


class ImageTest(unittest.TestCase):
    """oci_image output: spec validity, reproducibility, config contents."""

    def setUp(self) -> None:
        self.image = image_dir("IMAGE")
        self.digest, self.manifest, self.config = read_image(self.image)

    def test_validates_with_oci_image_tool(self) -> None:
        for variable, ref in [("IMAGE", "latest"), ("DERIVED", "derived")]:
            with self.subTest(image=variable):
                result = run("/usr/bin/oci-image-tool", "validate", "--type", "image", "--ref", f"name={ref}",
                             str(image_dir(variable)))
                self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_umoci_unpacks_layers_in_order(self) -> None:
        with tempfile.TemporaryDirectory(dir=os.environ.get("TEST_TMPDIR")) as scratch:
            copy = Path(scratch, "layout")
            shutil.copytree(image_dir("DERIVED"), copy)
            result = run("/usr/bin/umoci", "unpack", "--rootless", "--image", f"{copy}:derived", f"{scratch}/bundle")
            self.assertEqual(result.returncode, 0, result.stderr)
            rootfs = Path(scratch, "bundle", "rootfs")
            self.assertEqual((rootfs / "etc/greeting").read_text(), "hello")
            self.assertEqual((rootfs / "app/main").read_text(), "version-1")
            self.assertEqual((rootfs / "app/extra").read_text(), "extra")

    def test_layers_are_deterministic_gzip(self) -> None:
        self.assertEqual(len(self.manifest["layers"]), 2)
        for descriptor in self.manifest["layers"]:
            data = blob(self.image, descriptor["digest"])
            self.assertEqual(descriptor["mediaType"], "application/vnd.oci.image.layer.v1.tar+gzip")
            self.assertEqual(data[:3], b"\x1f\x8b\x08", "not a deflate gzip stream")
            self.assertEqual(data[3] & 0x08, 0, "gzip header carries a file name (FNAME)")
            self.assertEqual(data[4:8], b"\0\0\0\0", "gzip header mtime is not 0")

    def test_config(self) -> None:
        self.assertEqual(self.config["created"], EPOCH)
        self.assertEqual(self.config["rootfs"]["type"], "layers")
        self.assertEqual(len(self.config["rootfs"]["diff_ids"]), len(self.manifest["layers"]))
        self.assertEqual(
            self.config["history"],
            [{"created": EPOCH, "created_by": "//oci/tests:layer_a"},
             {"created": EPOCH, "created_by": "//oci/tests:layer_b"}],
        )
        settings = self.config["config"]
        self.assertEqual(settings["User"], "1000:1000")
        self.assertEqual(settings["Env"], ["PATH=/usr/bin", "LANG=C.UTF-8"])
        self.assertEqual(settings["ExposedPorts"], {"8080/tcp": {}})
        self.assertEqual(settings["Labels"], {"org.opencontainers.image.title": "oci-test"})
        self.assertEqual(settings["Entrypoint"], ["/app/main"])
        self.assertEqual(settings["Cmd"], ["--port", "8080"])
        self.assertEqual(settings["WorkingDir"], "/app")
        self.assertEqual((self.config["os"], self.config["architecture"]), ("linux", "amd64"))
        self.assertEqual(self.manifest["annotations"], {"org.opencontainers.image.ref.name": "latest"})

    def test_diff_ids_are_sha256_of_uncompressed_tars(self) -> None:
        for descriptor, diff_id in zip(self.manifest["layers"], self.config["rootfs"]["diff_ids"]):
            plain = gzip.decompress(blob(self.image, descriptor["digest"]))
            self.assertEqual("sha256:" + hashlib.sha256(plain).hexdigest(), diff_id)

    def test_same_inputs_give_same_digest(self) -> None:
        again, _, _ = read_image(image_dir("IMAGE_AGAIN"))
        self.assertEqual(again, self.digest)

    def test_changing_second_tar_changes_only_second_layer(self) -> None:
        digest, manifest, config = read_image(image_dir("IMAGE_CHANGED"))
        self.assertNotEqual(digest, self.digest)
        old, new = self.manifest["layers"], manifest["layers"]
        self.assertEqual(new[0], old[0])
        self.assertNotEqual(new[1]["digest"], old[1]["digest"])
        old_ids, new_ids = self.config["rootfs"]["diff_ids"], config["rootfs"]["diff_ids"]
        self.assertEqual(new_ids[0], old_ids[0])
        self.assertNotEqual(new_ids[1], old_ids[1])

    def test_derived_image_inherits_and_overrides_base(self) -> None:
        _, manifest, config = read_image(image_dir("DERIVED"))
        self.assertEqual(manifest["layers"][:2], self.manifest["layers"])
        self.assertEqual(len(manifest["layers"]), 3)
        self.assertEqual(config["created"], "2024-01-02T03:04:05Z")
        self.assertEqual(
            [(entry["created"], entry["created_by"]) for entry in config["history"]],
            [(EPOCH, "//oci/tests:layer_a"), (EPOCH, "//oci/tests:layer_b"),
             ("2024-01-02T03:04:05Z", "//oci/tests:layer_c")],
        )
        settings = config["config"]
        self.assertEqual(settings["Env"], ["PATH=/app/bin:/usr/bin", "LANG=C.UTF-8", "EXTRA=1"])
        self.assertEqual(settings["Labels"], {"org.opencontainers.image.title": "oci-test",
                                              "org.opencontainers.image.version": "1.2.3"})
        self.assertEqual(settings["Entrypoint"], ["/app/main"])
        self.assertEqual(settings["Cmd"], ["--debug"])
        self.assertEqual(settings["User"], "1000:1000")


class TarballTest(unittest.TestCase):
    """The oci_load `tarball` output group: a docker-archive of the image."""

    def setUp(self) -> None:
        self.tarball = Path(os.environ["TARBALL"]).resolve()
        self.image = image_dir("IMAGE")
        _, self.manifest, self.config = read_image(self.image)

    def test_structure_is_reproducible(self) -> None:
        with tarfile.open(self.tarball) as archive:
            members = archive.getmembers()
            entries = json.load(archive.extractfile("manifest.json"))
        for member in members:
            self.assertEqual((member.mtime, member.uid, member.gid, member.mode), (0, 0, 0, 0o644), member.name)
        (entry,) = entries
        self.assertEqual(entry["RepoTags"], ["localhost/oci-test:latest"])
        self.assertEqual(entry["Config"], "blobs/sha256/" + self.manifest["config"]["digest"].removeprefix("sha256:"))
        self.assertEqual(entry["Layers"], ["blobs/sha256/" + d.removeprefix("sha256:")
                                           for d in self.config["rootfs"]["diff_ids"]])

    def test_skopeo_reads_it_as_docker_archive(self) -> None:
        result = run("/usr/bin/skopeo", "inspect", "--config", "--raw", f"docker-archive:{self.tarball}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.encode(), blob(self.image, self.manifest["config"]["digest"]))
        result = run("/usr/bin/skopeo", "inspect", f"docker-archive:{self.tarball}")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(len(json.loads(result.stdout)["Layers"]), 2)


if __name__ == "__main__":
    unittest.main()
