"""The image layouts the container tests read: manifest, config and layer blobs."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path
from typing import Iterator

import layout


class Image:
    """The single image of an OCI layout directory (as //:image writes it)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.descriptor, self.manifest, self.config = layout.read_image(self.path)
        self.digest: str = self.descriptor["digest"]

    def layer_paths(self) -> list[Path]:
        """Returns the layer blobs (gzip-compressed tars), base first."""
        return [layout.blob_path(self.path, layer["digest"]) for layer in self.manifest["layers"]]

    def members(self) -> Iterator[tuple[int, tarfile.TarInfo]]:
        """Yields (layer index, member) for every member of every layer, in order."""
        for index, path in enumerate(self.layer_paths()):
            with tarfile.open(path) as tar:
                for info in tar:
                    yield index, info

    def layer_files(self, index: int) -> dict[str, bytes]:
        """Returns the regular files of layer INDEX: name (without "./") to contents."""
        with tarfile.open(self.layer_paths()[index]) as tar:
            return {info.name.removeprefix("./"): tar.extractfile(info).read() for info in tar if info.isreg()}


def image_under_test() -> Image:
    """Returns the image named by $IMAGE (//:image in these tests)."""
    return Image(os.environ["IMAGE"])


def per_architecture(variable: str) -> dict[str, str]:
    """Returns $VARIABLE's ARCH=PATH pairs (image/defs.bzl's per_architecture_env) as a dict,
    in debian/architectures.bzl's order."""
    return dict(pair.split("=", 1) for pair in os.environ[variable].split())


def images_under_test() -> dict[str, Image]:
    """Returns each architecture's image, by $IMAGES (//image:image_ARCH), in the table's order."""
    return {arch: Image(path) for arch, path in per_architecture("IMAGES").items()}
