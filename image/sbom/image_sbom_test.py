"""//:sbom lists exactly the image's Debian packages, every locked requirement and the
packages the kit builds from source (at VERSION+LOCAL, with the archive's sha256).

Usage: image_sbom_test.py SBOM_JSON DEBIAN_LOCK_JSON REQUIREMENTS_LOCK SOURCE_LOCK...
"""

import json
import sys
import unittest

import lockcheck

SBOM, DEBIAN_LOCK, REQUIREMENTS_LOCK = sys.argv[1:4]
SOURCE_LOCKS = sys.argv[4:]


class ImageSbomTest(unittest.TestCase):
    """The image's bill of materials against the two locks it is made from."""

    @classmethod
    def setUpClass(cls) -> None:
        with open(SBOM) as handle:
            cls.packages = json.load(handle)["packages"]

    def purls(self, kind: str) -> dict:
        """{name: version} of the SBOM's packages whose purl is pkg:KIND/..."""
        return {name: version for name, version, _ in self.refs(kind)}

    def refs(self, kind: str) -> list:
        """(name, version, purl) of the SBOM's packages whose purl is pkg:KIND/..."""
        found = []
        for package in self.packages:
            for ref in package["externalRefs"]:
                if ref["referenceType"] == "purl" and ref["referenceLocator"].startswith(f"pkg:{kind}/"):
                    found.append((package["name"], package["versionInfo"], ref["referenceLocator"]))
        return found

    def test_every_locked_requirement_with_its_version(self) -> None:
        with open(DEBIAN_LOCK) as handle:
            environment = lockcheck.environment_of(json.load(handle))
        with open(REQUIREMENTS_LOCK) as handle:
            locked, problems = lockcheck.parse_lock(handle.read(), REQUIREMENTS_LOCK, environment)
        self.assertEqual(problems, [])
        expected = {name: entry[0] for name, entry in locked.items()}
        for path in SOURCE_LOCKS:
            with open(path) as handle:
                source = json.load(handle)
            name = lockcheck.canonical_name(source["name"])
            expected[name] = "%s+%s" % (source["version"], source["local_version"])
            package = next(p for p in self.packages if lockcheck.canonical_name(p["name"]) == name)
            self.assertEqual(package["checksums"], [{"algorithm": "SHA256", "checksumValue": source["sha256"]}])
            self.assertIn("patches", package["comment"])
        listed = {lockcheck.canonical_name(n): v for n, v in self.purls("pypi").items()}
        self.assertEqual(listed, expected)

    def test_every_image_deb_with_its_version(self) -> None:
        with open(DEBIAN_LOCK) as handle:
            lock = json.load(handle)
        image = {p["name"]: p["version"] for p in lock["packages"] if "image" in p["sets"]}
        self.assertEqual(self.purls("deb"), image)
        # Each for the lock's architecture (or for all).
        arches = {purl.split("arch=")[1].split("&")[0] for _, _, purl in self.refs("deb")}
        self.assertEqual(arches - {"all"}, {lock["architecture"]})


if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
