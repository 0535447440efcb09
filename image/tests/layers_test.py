"""//:image's layers are base, accounts, third-party, app, in this order, and editing the
app changes only the last (//image/tests:image_edited_app is //:image with a module
added to app/app).
"""

from __future__ import annotations

import hashlib
import os
import unittest

from image_layout import Image, image_under_test


def file_digest(path: str) -> str:
    """Returns "sha256:HEX" of the file at PATH."""
    with open(path, "rb") as stream:
        return "sha256:" + hashlib.file_digest(stream, "sha256").hexdigest()


class LayersTest(unittest.TestCase):
    """Layer order and what an app edit changes."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.image = image_under_test()
        cls.edited = Image(os.environ["EDITED_IMAGE"])

    def test_layers_in_order_base_accounts_third_party_app(self) -> None:
        tars = os.environ["LAYER_TARS"].split()
        self.assertEqual(self.image.config["rootfs"]["diff_ids"], [file_digest(t) for t in tars])
        self.assertEqual([h["created_by"] for h in self.image.config["history"]],
                         ["//image:base_layer", "//debian:config_layer", "//image:python_layers third_party.tar",
                          "//image:python_layers app.tar"])

    def test_app_edit_changes_only_the_app_layer(self) -> None:
        layers, edited_layers = self.image.manifest["layers"], self.edited.manifest["layers"]
        self.assertEqual(len(layers), 4)
        self.assertEqual(len(edited_layers), 4)
        self.assertEqual(edited_layers[:-1], layers[:-1])
        self.assertNotEqual(edited_layers[-1]["digest"], layers[-1]["digest"])
        self.assertEqual(self.edited.config["rootfs"]["diff_ids"][:-1], self.image.config["rootfs"]["diff_ids"][:-1])
        self.assertNotEqual(self.edited.manifest["config"]["digest"], self.image.manifest["config"]["digest"])
        rest = {key: value for key, value in self.image.manifest.items() if key not in ("layers", "config")}
        self.assertEqual({k: v for k, v in self.edited.manifest.items() if k not in ("layers", "config")}, rest)

    def test_edited_app_layer_differs_by_the_added_module_only(self) -> None:
        original, edited = self.image.layer_files(3), self.edited.layer_files(3)
        self.assertEqual(sorted(set(edited) - set(original)),
                         ["app/app/__pycache__/zz_edited.cpython-311.pyc", "app/app/zz_edited.py"])
        self.assertEqual(edited["app/app/zz_edited.py"], b"EDITED = True\n")
        self.assertEqual({name: edited[name] for name in original}, original)


if __name__ == "__main__":
    unittest.main()
