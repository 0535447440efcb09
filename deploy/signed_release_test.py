"""release.py --sign-key for real: the image index goes to a docker-registry on loopback,
signed with a fresh cosign key and with its SBOMs and provenance attached; cosign
verifies them, podman runs the signed image and refuses what is not signed."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

from image_layout import Image, per_architecture
from testing.podman import Store
from testing.registry import Registry

import layout
import security
import version

RELEASE = Path(__file__).with_name("release.py")
INIT_PY = Path(os.environ["INIT_PY"]).absolute()
COSIGN = "/usr/bin/cosign"
SYSTEM_PYTHON = "/usr/bin/python3"  # the build root's, with PyYAML: a real YAML parser
PASSWORD = "release password"
STEP_TIMEOUT = 300


def top_digest(variable: str) -> str:
    """The digest of the layout named by $VARIABLE."""
    return layout.top_descriptor(Path(os.environ[variable]))["digest"]


class SignedReleaseTest(unittest.TestCase):
    """One signed release, then checks of what is in the registry."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        cls.env = {**os.environ, "HOME": str(cls.tmp), "REGISTRY_AUTH_FILE": "", "COSIGN_PASSWORD": PASSWORD}
        (cls.tmp / "registry").mkdir()
        cls.registry = Registry(cls.tmp / "registry")
        cls.repository = f"127.0.0.1:{cls.registry.port}/workload"
        for name in ("release", "other"):
            cls.run_checked([COSIGN, "generate-key-pair", "--output-key-prefix", str(cls.tmp / name)])
        workspace = cls.tmp / "workspace"
        (workspace / "app" / "app").mkdir(parents=True)
        shutil.copyfile(INIT_PY, workspace / "app" / "app" / "__init__.py")
        cls.output = cls.tmp / "release.yaml"
        cls.policy = cls.tmp / "policy"
        cls.result = subprocess.run(
            [sys.executable, str(RELEASE), "--workspace", str(workspace), "--repository", cls.repository,
             "--output", str(cls.output), "--sign-key", str(cls.tmp / "release.key"),
             "--podman-policy", str(cls.policy), "--push", os.environ["PUSH"]],
            capture_output=True, text=True, timeout=STEP_TIMEOUT, env=cls.env, check=False)
        cls.index = top_digest("INDEX")
        layouts = per_architecture("IMAGES")
        cls.images = {arch: Image(path).digest for arch, path in layouts.items()}
        cls.native_layout = layouts[os.environ["BUILD_ARCHITECTURE"]]

    @classmethod
    def tearDownClass(cls) -> None:
        cls.registry.stop()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def run_checked(cls, command: list) -> str:
        """Runs COMMAND; its stdout, or an AssertionError with its stderr."""
        result = subprocess.run(command, capture_output=True, text=True, timeout=STEP_TIMEOUT, env=cls.env,
                                check=False)
        if result.returncode != 0:
            raise AssertionError(f"{' '.join(command)}: exit {result.returncode}\n{result.stderr}")
        return result.stdout

    def setUp(self) -> None:
        self.assertEqual(self.result.returncode, 0, self.result.stderr)

    def cosign(self, *args: str, key: str = "release") -> subprocess.CompletedProcess:
        """`cosign ARGS` verifying offline with KEY's public key, against the loopback registry."""
        return subprocess.run([COSIGN, *args, "--key", str(self.tmp / f"{key}.pub"), "--insecure-ignore-tlog=true",
                               "--allow-http-registry"], capture_output=True, text=True, timeout=STEP_TIMEOUT,
                              env=self.env, check=False)

    def statement(self, digest: str, kind: str) -> dict:
        """The in-toto statement of the verified KIND attestation of DIGEST."""
        result = self.cosign("verify-attestation", "--type", kind, f"{self.repository}@{digest}")
        self.assertEqual(result.returncode, 0, result.stderr)
        envelopes = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        self.assertEqual(len(envelopes), 1, result.stdout[:2000])
        return json.loads(base64.b64decode(envelopes[0]["payload"]))

    def test_the_pushed_index_is_the_unsigned_build(self) -> None:
        tag = version.image_tag(version.read_version(INIT_PY))
        inspected = json.loads(self.run_checked(["/usr/bin/skopeo", "inspect", "--tls-verify=false",
                                                 f"docker://{self.repository}:{tag}"]))
        self.assertEqual(inspected["Digest"], self.index)  # signatures are beside it, never in it
        self.assertIn(f"release: {self.repository}:{tag} is {self.repository}@{self.index} (signed)",
                      self.result.stderr)
        self.assertIn(f"cosign_sign: signed {self.repository}@{self.index} and each image it lists",
                      self.result.stderr)

    def test_index_and_each_image_are_signed_by_the_key_only(self) -> None:
        for digest in (self.index, *self.images.values()):
            reference = f"{self.repository}@{digest}"
            # the signature itself, under the tag podman reads (cosign 3's verify also
            # accepts an attestation's bundle signed by the key)
            self.run_checked(["/usr/bin/skopeo", "inspect", "--raw", "--tls-verify=false",
                              f"docker://{self.repository}:{digest.replace(':', '-')}.sig"])
            self.assertEqual(self.cosign("verify", reference).returncode, 0, reference)
            wrong = self.cosign("verify", reference, key="other")
            self.assertNotEqual(wrong.returncode, 0, reference)

    def test_sboms_and_provenance_are_signed_attestations(self) -> None:
        sboms = per_architecture("SBOMS")
        self.assertEqual(list(sboms), list(self.images))
        for arch, digest in self.images.items():
            statement = self.statement(digest, "spdxjson")
            self.assertEqual(statement["subject"][0]["digest"]["sha256"], digest.removeprefix("sha256:"))
            self.assertEqual(statement["predicate"], json.loads(Path(sboms[arch]).read_text()))
        provenance = json.loads(Path(os.environ["PROVENANCE"]).read_text())
        for digest in (self.index, *self.images.values()):
            statement = self.statement(digest, "slsaprovenance1")
            self.assertEqual(statement["predicateType"], "https://slsa.dev/provenance/v1")
            self.assertEqual(statement["predicate"], provenance)
        wrong = self.cosign("verify-attestation", "--type", "spdxjson", f"{self.repository}@{self.images[os.environ['BUILD_ARCHITECTURE']]}", key="other")
        self.assertNotEqual(wrong.returncode, 0)

    def test_an_unsigned_copy_does_not_verify(self) -> None:
        copy = f"127.0.0.1:{self.registry.port}/copy"
        self.run_checked(["/usr/bin/skopeo", "copy", "--all", "--preserve-digests", "--dest-tls-verify=false",
                          f"oci:{os.environ['INDEX']}", f"docker://{copy}:latest"])
        result = self.cosign("verify", f"{copy}@{self.index}")
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no signatures found", result.stderr)

    def test_the_cluster_policy_parses_and_names_the_key(self) -> None:
        parsed = self.run_checked([SYSTEM_PYTHON, "-c", "import json, sys, yaml; "
                                   "print(json.dumps(list(yaml.safe_load_all(open(sys.argv[1])))))", str(self.output)])
        deployment, _, policy = json.loads(parsed)
        self.assertEqual(deployment["spec"]["template"]["spec"]["containers"][0]["image"],
                         f"{self.repository}@{self.index}")
        self.assertEqual((policy["apiVersion"], policy["kind"]), ("kyverno.io/v1", "ClusterPolicy"))
        rule = policy["spec"]["rules"][0]["verifyImages"][0]
        self.assertEqual(rule["imageReferences"], [f"{self.repository}:*", f"{self.repository}@*"])
        self.assertEqual(rule["failureAction"], "Enforce")
        key = rule["attestors"][0]["entries"][0]["keys"]
        self.assertEqual(key["publicKeys"], (self.tmp / "release.pub").read_text())
        self.assertEqual(key["rekor"], {"ignoreTlog": True})

    def test_podman_runs_the_signed_image_and_refuses_the_rest(self) -> None:
        store = Store(podman=security.PODMAN)
        self.addCleanup(store.close)
        (store.root / ".config" / "containers").mkdir(parents=True)
        shutil.copytree(self.policy / "registries.d", store.root / ".config" / "containers" / "registries.d")
        flags = ["--signature-policy", str(self.policy / "policy.json"), "--tls-verify=false"]
        result = store.podman("run", "--rm", *flags, "--network", "none", "--read-only",
                              "--entrypoint", "/usr/bin/python3", f"{self.repository}@{self.index}",
                              "-c", "import app; print(app.__version__)")
        self.assertEqual(result.stdout.strip(), version.read_version(INIT_PY))
        # The same image pushed again as Docker schema 2: another digest, no signature.
        self.run_checked(["/usr/bin/skopeo", "copy", "--format", "v2s2", "--dest-tls-verify=false",
                          f"oci:{self.native_layout}", f"docker://{self.repository}:altered"])
        refused = store.podman("pull", *flags, f"{self.repository}:altered", check=False)
        self.assertNotEqual(refused.returncode, 0)
        self.assertIn("A signature was required, but no signature exists", refused.stderr)
        elsewhere = f"127.0.0.1:{self.registry.port}/elsewhere:latest"
        self.run_checked(["/usr/bin/skopeo", "copy", "--dest-tls-verify=false", f"oci:{self.native_layout}",
                          f"docker://{elsewhere}"])
        other = store.podman("pull", *flags, elsewhere, check=False)
        self.assertNotEqual(other.returncode, 0)
        self.assertIn("rejected by policy", other.stderr)


if __name__ == "__main__":
    unittest.main()
