"""//image:provenance names every lock MODULE.bazel names, with its sha256, and the build
root it was made in."""

import hashlib
import importlib.util
import json
import os
import re
import unittest
from pathlib import Path

spec = importlib.util.spec_from_file_location("mirror", os.environ["MIRROR_PY"])
mirror = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mirror)  # buildroot/mirror.py: how the kit reads MODULE.bazel's locks

PROVENANCE = json.loads(Path(os.environ["PROVENANCE"]).read_text())


class ProvenanceTest(unittest.TestCase):
    def test_every_lock_with_its_digest(self) -> None:
        module = Path(os.environ["MODULE"]).read_text()
        named = sorted({path.relative_to(mirror.WORKSPACE).as_posix()
                        for paths in mirror.locks(module).values() for path in paths})
        locks = {item["name"]: item["digest"]["sha256"]
                 for item in PROVENANCE["buildDefinition"]["resolvedDependencies"] if "name" in item}
        self.assertEqual(sorted(locks), named)
        for name, digest in locks.items():
            self.assertEqual(hashlib.sha256(Path(name).read_bytes()).hexdigest(), digest, name)

    def test_source_and_build_root(self) -> None:
        definition = PROVENANCE["buildDefinition"]
        self.assertEqual(definition["externalParameters"]["target"], "//image:image_index")
        source = definition["externalParameters"]["source"]
        if "digest" in source:  # a git checkout: the commit, and whether it had changes
            self.assertRegex(source["digest"]["gitCommit"], r"^[0-9a-f]{40}$")
            self.assertIsInstance(source["uncommittedChanges"], bool)
        self.assertNotRegex(source["uri"], r"://[^/]*@", "credentials in the remote's URL")
        pins = Path("/etc/bazelw-root").read_text().strip()  # the build root this test runs in
        self.assertEqual(definition["internalParameters"]["buildRoot"]["pins"], pins)
        self.assertEqual(PROVENANCE["runDetails"]["builder"]["version"]["buildRoot"], pins)
        self.assertTrue(re.match(r"^urn:", PROVENANCE["runDetails"]["builder"]["id"]))


if __name__ == "__main__":
    unittest.main()
