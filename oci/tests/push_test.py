"""Pushes //oci/tests:image with the oci_push executable to real registries on loopback.

Each registry is Debian's docker-registry on a free 127.0.0.1 port, started for the test
and stopped by its PID: plain HTTP; then TLS (self-signed) with htpasswd auth.
"""

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

from testing.ports import free_port
from testing.registry import Registry

STEP_TIMEOUT = 60
FAIL_FAST_SECONDS = 15


def image_digest() -> str:
    """Returns the manifest digest of the image under test."""
    index = json.loads((Path(os.environ["IMAGE"]) / "index.json").read_bytes())
    return index["manifests"][0]["digest"]


class PushTest(unittest.TestCase):
    """The oci_push executable against real registries."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = {**os.environ, "HOME": str(self.tmp), "REGISTRY_AUTH_FILE": ""}
        self.digest = image_digest()

    def start(self, **kwargs: object) -> Registry:
        """Starts a registry for this test; it is stopped when the test ends."""
        workdir = Path(tempfile.mkdtemp(dir=self.tmp))
        registry = Registry(workdir, **kwargs)  # type: ignore[arg-type]
        self.addCleanup(registry.stop)
        return registry

    def push(self, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Runs the push executable with ARGS, bounded in time."""
        return subprocess.run([os.environ["PUSH"], *args], capture_output=True, text=True,
                              timeout=STEP_TIMEOUT, env=env or self.env, check=False)

    def inspect(self, reference: str, *flags: str) -> dict:
        """Returns `skopeo inspect` of REFERENCE."""
        result = subprocess.run(["/usr/bin/skopeo", "inspect", *flags, f"docker://{reference}"],
                                capture_output=True, text=True, timeout=STEP_TIMEOUT, check=False, env=self.env)
        self.assertEqual(result.returncode, 0, result.stderr)
        return json.loads(result.stdout)

    def assert_one_line_failure(self, result: subprocess.CompletedProcess[str], started: float, text: str) -> None:
        """Checks RESULT failed fast, with one line on stderr containing TEXT and no traceback."""
        self.assertNotEqual(result.returncode, 0)
        self.assertLess(time.monotonic() - started, FAIL_FAST_SECONDS)
        lines = result.stderr.strip().splitlines()
        self.assertEqual(len(lines), 1, result.stderr)
        self.assertTrue(lines[0].startswith("oci_push: "), lines[0])
        self.assertIn(text, lines[0])
        self.assertEqual(result.stdout, "")

    def test_push_to_plain_http_registry(self) -> None:
        registry = self.start()
        repository = f"127.0.0.1:{registry.port}/test"
        digest_file = self.tmp / "digest.txt"
        result = self.push("--repository", repository, "-t", "extra", "--digest-file", str(digest_file))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{repository}@{self.digest}\n")
        self.assertEqual(digest_file.read_text(), result.stdout)
        for tag in ["v1", "stable", "extra"]:
            self.assertEqual(self.inspect(f"{repository}:{tag}", "--tls-verify=false")["Digest"], self.digest)
        tags = self.inspect(f"{repository}:v1", "--tls-verify=false")["RepoTags"]
        self.assertEqual(sorted(tags), ["extra", "stable", "v1"])

    def test_push_with_tls_and_credentials(self) -> None:
        certs = self.tmp / "certs"
        certs.mkdir()
        key, cert = self.tmp / "registry.key", certs / "ca.crt"
        subprocess.run(["/usr/bin/openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                        "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=STEP_TIMEOUT)
        htpasswd = self.tmp / "htpasswd"
        htpasswd.write_bytes(subprocess.run(["/usr/bin/htpasswd", "-Bbn", "alice", "s3cret"], check=True,
                                            capture_output=True, timeout=STEP_TIMEOUT).stdout)
        registry = self.start(tls=(cert, key), htpasswd=htpasswd)
        host = f"127.0.0.1:{registry.port}"

        def auth_env(password: str) -> dict[str, str]:
            path = self.tmp / f"auth-{password}.json"
            token = base64.b64encode(f"alice:{password}".encode()).decode()
            path.write_text(json.dumps({"auths": {host: {"auth": token}}}))
            return {**self.env, "REGISTRY_AUTH_FILE": str(path)}

        good = auth_env("s3cret")
        result = self.push("-r", f"{host}/secure", "--cert-dir", str(certs), env=good)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, f"{host}/secure@{self.digest}\n")
        self.env = good
        self.assertEqual(self.inspect(f"{host}/secure:v1", "--cert-dir", str(certs))["Digest"], self.digest)

        started = time.monotonic()
        result = self.push("-r", f"{host}/secure", "--cert-dir", str(certs), env=auth_env("wrong"))
        self.assert_one_line_failure(result, started, "rejected the credentials")

        empty = self.tmp / "no-certs"
        empty.mkdir()
        started = time.monotonic()
        result = self.push("-r", f"{host}/secure", "--cert-dir", str(empty), env=good)
        self.assert_one_line_failure(result, started, "certificate")

    def test_unreachable_registry_fails_fast(self) -> None:
        started = time.monotonic()
        result = self.push("--repository", f"127.0.0.1:{free_port()}/test")
        self.assert_one_line_failure(result, started, "cannot reach registry")

    def test_repository_with_tag_is_refused(self) -> None:
        started = time.monotonic()
        result = self.push("--repository", "127.0.0.1:1/test:latest")
        self.assert_one_line_failure(result, started, "must not carry a tag")


if __name__ == "__main__":
    unittest.main()
