"""//image:image_index holds //:image (amd64) and its arm64 twin; bytecode does not depend
on the CPU, so the layers whose files are the same (the accounts, the app) are the same
blobs, and the two configs differ only in architecture and in the layers that differ.
"""

from __future__ import annotations

import os
import unittest
from pathlib import Path

import image_settings
import layout
from testing.image_layout import Image

SAME = ("accounts", "app")  # layers with no ELF file: byte-identical on both


class IndexTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        cls.index_layout = Path(os.environ["INDEX"])
        cls.index = layout.read_json_blob(cls.index_layout, layout.top_descriptor(cls.index_layout)["digest"])
        cls.amd64, cls.arm64 = Image(os.environ["IMAGE"]), Image(os.environ["IMAGE_ARM64"])

    def test_two_manifests_by_platform(self) -> None:
        self.assertEqual(self.index["mediaType"], layout.INDEX_MEDIA_TYPE)
        self.assertEqual([(m["platform"], m["digest"]) for m in self.index["manifests"]],
                         [({"os": "linux", "architecture": "amd64"}, self.amd64.digest),
                          ({"os": "linux", "architecture": "arm64"}, self.arm64.digest)])
        for image in (self.amd64, self.arm64):
            for blob in [image.manifest["config"], *image.manifest["layers"]]:
                self.assertTrue(layout.blob_path(self.index_layout, blob["digest"]).is_file(), blob)

    def test_app_and_accounts_layers_are_shared(self) -> None:
        for name in image_settings.settings()["layers"]:
            index = image_settings.layer_index(name)
            amd64, arm64 = (image.manifest["layers"][index]["digest"] for image in (self.amd64, self.arm64))
            if name in SAME:
                self.assertEqual(amd64, arm64, name)
            else:
                self.assertNotEqual(amd64, arm64, name)

    def test_configs_differ_only_in_architecture_and_layers(self) -> None:
        amd64, arm64 = (dict(image.config) for image in (self.amd64, self.arm64))
        self.assertEqual((amd64.pop("architecture"), arm64.pop("architecture")), ("amd64", "arm64"))
        amd64_ids, arm64_ids = amd64.pop("rootfs")["diff_ids"], arm64.pop("rootfs")["diff_ids"]
        self.assertEqual(len(amd64_ids), len(arm64_ids))
        amd64.pop("history"), arm64.pop("history")
        self.assertEqual(amd64, arm64)


if __name__ == "__main__":
    unittest.main()
