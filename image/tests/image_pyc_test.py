"""Every pyc of //:image, in every layer (the base's standard library included), is valid
for the image's Python and matches its source; every source has one unless
python/layers/no_pyc.txt lists it; and the config keeps Python from writing bytecode
(PYTHONDONTWRITEBYTECODE=1). The per-layer checks are pyc_test.py's,
run here on the image's layer blobs.
"""

from __future__ import annotations

import sys
import unittest

import image_settings
import pyc_test
from image_layout import image_under_test

# Layers holding Python sources; the image's others (the accounts layer) hold none.
PYTHON_LAYERS = {image_settings.layer_index(name): name for name in ("base", "third_party", "app")}


class ImageLayersTest(unittest.TestCase):
    """What pyc_test checks per layer is enough for the whole image, which never writes
    bytecode at run time."""

    def test_no_bytecode_written_at_run_time(self) -> None:
        self.assertIn("PYTHONDONTWRITEBYTECODE=1", image_under_test().config["config"]["Env"])

    def test_python_layers_are_base_third_party_app(self) -> None:
        with_python = [index for index, info in image_under_test().members() if info.name.endswith(".py")]
        self.assertEqual(sorted(set(with_python)), sorted(PYTHON_LAYERS))

    def test_no_layer_replaces_a_file_of_another(self) -> None:
        """An unchecked-hash pyc would outlive a source replaced by a later layer."""
        owners: dict[str, int] = {}
        for index, info in image_under_test().members():
            name = info.name.removeprefix("./").rstrip("/")
            if info.isdir():
                continue
            self.assertNotIn(name, owners, f"layer {index} replaces a file of layer {owners.get(name)}")
            owners[name] = index
        stdlib = "usr/lib/python%d.%d/" % sys.version_info[:2]
        self.assertTrue(any(name.startswith(stdlib) and name.endswith(".pyc") for name in owners))


def main() -> None:
    """Runs pyc_test's checks on the image's Python layers, then this module's tests."""
    layers = image_under_test().layer_paths()
    pyc_test.LAYERS = [str(layers[index]) for index in sorted(PYTHON_LAYERS)]
    suite = unittest.TestSuite([
        unittest.defaultTestLoader.loadTestsFromModule(pyc_test),
        unittest.defaultTestLoader.loadTestsFromTestCase(ImageLayersTest),
    ])
    result = unittest.TextTestRunner(verbosity=2).run(suite)
    sys.exit(0 if result.wasSuccessful() else 1)


if __name__ == "__main__":
    main()
