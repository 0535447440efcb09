"""oci_push with signers (cosign_sign, cosign_attest) against a real docker-registry on
loopback and a fresh cosign key: what is signed verifies, mistakes are one line."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest
from pathlib import Path

from testing.registry import Registry

COSIGN = "/usr/bin/cosign"
STEP_TIMEOUT = 120
PREDICATE_TYPE = "https://example.invalid/oci-test/v1"


class CosignTest(unittest.TestCase):
    """//oci/tests:signed_push, signed with a key made for the test."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = {**os.environ, "HOME": str(self.tmp), "REGISTRY_AUTH_FILE": "", "COSIGN_PASSWORD": "secret"}
        self.env.pop("COSIGN_KEY", None)
        subprocess.run([COSIGN, "generate-key-pair", "--output-key-prefix", str(self.tmp / "k")], env=self.env,
                       capture_output=True, timeout=STEP_TIMEOUT, check=True)
        registry = Registry(Path(tempfile.mkdtemp(dir=self.tmp)))
        self.addCleanup(registry.stop)
        self.repository = f"127.0.0.1:{registry.port}/oci-test"
        index = json.loads((Path(os.environ["IMAGE"]) / "index.json").read_text())
        self.reference = f"{self.repository}@{index['manifests'][0]['digest']}"

    def push(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Runs the signed push executable with ARGS, bounded in time."""
        return subprocess.run([os.environ["SIGNED_PUSH"], "--repository", self.repository, *args],
                              capture_output=True, text=True, timeout=STEP_TIMEOUT, env=env or self.env, check=False)

    def cosign(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`cosign ARGS`, verifying offline with the test's public key."""
        return subprocess.run([COSIGN, *args, "--key", str(self.tmp / "k.pub"), "--insecure-ignore-tlog=true",
                               "--allow-http-registry", self.reference], capture_output=True, text=True,
                              timeout=STEP_TIMEOUT, env=self.env, check=False)

    def test_sign_key_signs_and_attests(self) -> None:
        result = self.push("--sign-key", str(self.tmp / "k.key"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.reference + "\n")  # the signers report on stderr
        self.assertIn(f"cosign_sign: signed {self.reference}", result.stderr)
        self.assertEqual(self.cosign("verify").returncode, 0)
        verified = self.cosign("verify-attestation", "--type", PREDICATE_TYPE)
        self.assertEqual(verified.returncode, 0, verified.stderr)
        statement = json.loads(base64.b64decode(json.loads(verified.stdout.splitlines()[0])["payload"]))
        self.assertEqual(statement["predicate"], json.loads(Path(os.environ["PREDICATE"]).read_text()))

    def test_key_from_the_environment(self) -> None:
        key = (self.tmp / "k.key").read_text()
        result = self.push(env={**self.env, "COSIGN_KEY": "env://TEST_SIGNING_KEY", "TEST_SIGNING_KEY": key})
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(self.cosign("verify").returncode, 0)

    def test_without_a_key_nothing_is_signed(self) -> None:
        result = self.push()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotEqual(self.cosign("verify").returncode, 0)

    def assert_one_line(self, result: subprocess.CompletedProcess[str], text: str) -> None:
        self.assertEqual(result.returncode, 1)
        lines = result.stderr.strip().splitlines()
        self.assertIn(text, lines[-1])
        self.assertNotIn("Traceback", result.stderr)

    def test_a_missing_key_pushes_nothing(self) -> None:
        started = time.monotonic()
        result = self.push("--sign-key", "no-such.key")
        self.assert_one_line(result, "no signing key at")
        self.assertLess(time.monotonic() - started, 15)
        listed = subprocess.run(["/usr/bin/skopeo", "inspect", "--tls-verify=false", f"docker://{self.reference}"],
                                capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)
        self.assertNotEqual(listed.returncode, 0)

    def test_a_wrong_password_is_one_line_and_tags_nothing(self) -> None:
        result = self.push("--sign-key", str(self.tmp / "k.key"), "--tag", "v1",
                           env={**self.env, "COSIGN_PASSWORD": "wrong"})
        self.assertIn("COSIGN_PASSWORD does not open the key", result.stderr)
        self.assert_one_line(result, "the tags were not applied")
        tagged = subprocess.run(["/usr/bin/skopeo", "inspect", "--tls-verify=false", f"docker://{self.repository}:v1"],
                                capture_output=True, text=True, timeout=STEP_TIMEOUT, env=self.env, check=False)
        self.assertNotEqual(tagged.returncode, 0)


if __name__ == "__main__":
    unittest.main()
