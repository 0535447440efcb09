"""The base's SPDX document: valid shape, every image package with its lock sha256, deterministic.

Usage: sbom_test.py SBOM_JSON LOCK_JSON
"""

import hashlib
import json
import re
import sys
import unittest

SBOM, LOCK = sys.argv[1:3]
del sys.argv[1:3]


class SbomTest(unittest.TestCase):
    def test_document(self) -> None:
        with open(SBOM) as handle:
            text = handle.read()
        with open(LOCK) as handle:
            lock = json.load(handle)
        doc = json.loads(text)
        self.assertEqual(doc["spdxVersion"], "SPDX-2.3")
        self.assertEqual(doc["creationInfo"]["created"], "1970-01-01T00:00:00Z")
        image = {p["name"]: p for p in lock["packages"] if "image" in p["sets"]}
        packages = {p["name"]: p for p in doc["packages"]}
        self.assertEqual(sorted(packages), sorted(image))
        for name, entry in image.items():
            with self.subTest(package=name):
                self.assertEqual(packages[name]["versionInfo"], entry["version"])
                self.assertEqual(packages[name]["checksums"], [{"algorithm": "SHA256", "checksumValue": entry["sha256"]}])
                self.assertRegex(packages[name]["SPDXID"], r"^SPDXRef-[A-Za-z0-9.-]+$")
        self.assertEqual(packages["zlib1g"]["licenseDeclared"], "Zlib")
        # gcc's copyright file is free text, not the machine-readable format: no guess is made.
        self.assertEqual(packages["libgcc-s1"]["licenseDeclared"], "NOASSERTION")
        namespace = doc.pop("documentNamespace")
        digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
        self.assertTrue(namespace.endswith("-" + digest))
        self.assertFalse(re.search(r"/(root|tmp|home)/|bazel-out|execroot", text), "build paths leaked into the SBOM")


if __name__ == "__main__":
    unittest.main()
