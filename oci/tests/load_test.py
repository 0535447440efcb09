"""Runs the oci_load executable: podman loads the image into a throwaway storage."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

from testing.podman import private_env

STEP_TIMEOUT = 120


class LoadTest(unittest.TestCase):
    """The oci_load executable with the real podman, and without any engine."""

    def setUp(self) -> None:
        self.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        self.addCleanup(shutil.rmtree, self.tmp, ignore_errors=True)
        self.env = private_env(self.tmp)
        index = json.loads((Path(os.environ["IMAGE"]) / "index.json").read_bytes())
        manifest_path = Path(os.environ["IMAGE"], "blobs", "sha256", index["manifests"][0]["digest"][7:])
        self.config_digest = json.loads(manifest_path.read_bytes())["config"]["digest"]

    def run_tool(self, *command: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        """Runs COMMAND bounded in time, capturing its output."""
        return subprocess.run(command, capture_output=True, text=True, timeout=STEP_TIMEOUT,
                              env=env or self.env, check=False)

    def test_podman_loads_image_with_its_tag(self) -> None:
        result = self.run_tool(os.environ["LOAD"])
        self.assertEqual(result.returncode, 0, result.stderr)
        result = self.run_tool("/usr/bin/podman", "image", "inspect", "--format", "{{.Id}} {{.RepoTags}}",
                               "localhost/oci-test:latest")
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.split()[0], self.config_digest.removeprefix("sha256:"))

    def test_no_engine_fails_in_one_line(self) -> None:
        # Every program of $PATH but the engines (the interpreter's launcher needs some).
        bin_dir = self.tmp / "bin"
        bin_dir.mkdir()
        for directory in os.environ["PATH"].split(os.pathsep):
            for program in Path(directory).glob("*") if Path(directory).is_dir() else []:
                target = bin_dir / program.name
                if program.name not in ("podman", "docker") and not os.path.lexists(target):
                    target.symlink_to(program)
        result = self.run_tool(os.environ["LOAD"], env={**self.env, "PATH": str(bin_dir), "DOCKER_HOST": ""})
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stderr.strip().splitlines(),
                         ["oci_load: no container engine: install podman, or docker with a running daemon"])


if __name__ == "__main__":
    unittest.main()
