"""//image:image_index holds every architecture's image (debian/architectures.bzl's
order); bytecode does not depend on the CPU, so the layers whose files are the same (the
accounts, the app) are the same blobs, and the configs differ only in architecture and in
the layers that differ.
"""

from __future__ import annotations

import os
import unittest
from pathlib import Path

import image_settings
import layout
from image_layout import images_under_test

SAME = ("accounts", "app")  # layers with no ELF file: byte-identical on every CPU


class IndexTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.index_layout = Path(os.environ["INDEX"])
        cls.index = layout.read_json_blob(cls.index_layout, layout.top_descriptor(cls.index_layout)["digest"])
        cls.images = images_under_test()
        cls.native = cls.images[os.environ["BUILD_ARCHITECTURE"]]

    def test_one_manifest_per_architecture(self) -> None:
        self.assertGreater(len(self.images), 1)
        self.assertEqual(self.index["mediaType"], layout.INDEX_MEDIA_TYPE)
        self.assertEqual([(m["platform"], m["digest"]) for m in self.index["manifests"]],
                         [({"os": "linux", "architecture": arch}, image.digest) for arch, image in self.images.items()])
        for image in self.images.values():
            for blob in [image.manifest["config"], *image.manifest["layers"]]:
                self.assertTrue(layout.blob_path(self.index_layout, blob["digest"]).is_file(), blob)

    def test_app_and_accounts_layers_are_shared(self) -> None:
        for name in image_settings.settings()["layers"]:
            index = image_settings.layer_index(name)
            native = self.native.manifest["layers"][index]["digest"]
            for arch, image in self.images.items():
                if image is self.native:
                    continue
                if name in SAME:
                    self.assertEqual(image.manifest["layers"][index]["digest"], native, (arch, name))
                else:
                    self.assertNotEqual(image.manifest["layers"][index]["digest"], native, (arch, name))

    def test_configs_differ_only_in_architecture_and_layers(self) -> None:
        def rest(arch: str) -> dict:
            config = dict(self.images[arch].config)
            self.assertEqual(config.pop("architecture"), arch)
            config["rootfs"] = len(config["rootfs"]["diff_ids"])
            config.pop("history")
            return config

        native = rest(os.environ["BUILD_ARCHITECTURE"])
        for arch in self.images:
            self.assertEqual(rest(arch), native, arch)


if __name__ == "__main__":
    unittest.main()
