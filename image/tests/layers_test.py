"""//:image's layers are base, accounts, third-party, app, in this order, and editing the
app changes only the last (//image/tests:image_edited_app is //:image with a module
added to app/app).
"""

from __future__ import annotations

import hashlib
import os
import sys
import unittest

import image_settings
from image_layout import Image, image_under_test

APP = image_settings.layer_index("app")


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
        self.assertEqual([h["created_by"] for h in self.image.config["history"]], os.environ["LAYER_LABELS"].split())

    def test_app_edit_changes_only_the_app_layer(self) -> None:
        layers, edited_layers = self.image.manifest["layers"], self.edited.manifest["layers"]
        self.assertEqual(len(layers), len(image_settings.settings()["layers"]))
        self.assertEqual(APP, len(layers) - 1, "the app layer is the last")
        self.assertEqual(len(edited_layers), len(layers))
        self.assertEqual(edited_layers[:APP], layers[:APP])
        self.assertNotEqual(edited_layers[APP]["digest"], layers[APP]["digest"])
        self.assertEqual(self.edited.config["rootfs"]["diff_ids"][:APP], self.image.config["rootfs"]["diff_ids"][:APP])
        self.assertNotEqual(self.edited.manifest["config"]["digest"], self.image.manifest["config"]["digest"])
        rest = {key: value for key, value in self.image.manifest.items() if key not in ("layers", "config")}
        self.assertEqual({k: v for k, v in self.edited.manifest.items() if k not in ("layers", "config")}, rest)

    def test_edited_app_layer_differs_by_the_added_module_only(self) -> None:
        original, edited = self.image.layer_files(APP), self.edited.layer_files(APP)
        self.assertEqual(sorted(set(edited) - set(original)),
                         [f"app/app/__pycache__/zz_edited.{sys.implementation.cache_tag}.pyc", "app/app/zz_edited.py"])
        self.assertEqual(edited["app/app/zz_edited.py"], b"EDITED = True\n")
        self.assertEqual({name: edited[name] for name in original}, original)


if __name__ == "__main__":
    unittest.main()
