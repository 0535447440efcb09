"""The Deployment runs the real image under `podman kube play` and answers a plain GET
(with whatever status the user's app gives).

The test copy differs from //deploy:manifest only where a pod on this machine must:
host network, bound to 127.0.0.1 on a free port, and the image from a private store.
Pods' infra containers run the workload image with a pausing entrypoint (podman's own
infra image needs catatonit, which the build root lacks).
"""

import copy
import os
import tempfile
import time
import unittest
from pathlib import Path

import containers
from testing import podman
from testing.ports import free_port
import image_settings
import render

INFRA_IMAGE = "localhost/workload-pause:test"
PAUSE = ('FROM %s\nENTRYPOINT ["%s", "-c", "import signal, sys; '
         'signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); signal.pause()"]\n'
         % (podman.IMAGE_TAG, image_settings.settings()["python"]))
POD = "workload-pod"


class KubePlayTest(unittest.TestCase):
    def setUp(self) -> None:
        self.store = containers.loaded_store(infra_image=INFRA_IMAGE)
        self.addCleanup(self.store.close)
        self.tmp = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        (self.tmp / "Containerfile").write_text(PAUSE)
        self.store.podman("build", "--pull=never", "--quiet", "--tag", INFRA_IMAGE, str(self.tmp))

    def test_deployment_serves_read_only_and_goes_down(self) -> None:
        port = free_port()
        deployment, service = render.manifests(podman.IMAGE_TAG)
        deployment = copy.deepcopy(deployment)
        pod = deployment["spec"]["template"]["spec"]  # type: ignore[index]
        pod["hostNetwork"] = True
        container = pod["containers"][0]
        container["env"] = [{"name": "HOST", "value": "127.0.0.1"}, {"name": "PORT", "value": str(port)}]
        container["ports"][0]["containerPort"] = port
        manifest = self.tmp / "workload.yaml"
        manifest.write_text(render.dump([deployment, service]))

        self.addCleanup(self.store.podman, "pod", "rm", "--force", "--ignore", "--time", "0", POD, check=False)
        self.store.podman("kube", "play", str(manifest))
        name = f"{POD}-{render.NAME}"
        deadline = time.monotonic() + containers.START_TIMEOUT
        while True:
            try:
                status, _, body = podman.request(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", timeout=2)
                break
            except OSError:
                logs = self.store.podman("logs", name, check=False)
                self.assertLess(time.monotonic(), deadline, logs.stdout + logs.stderr)
                time.sleep(0.2)
        self.assertIn(status // 100, (2, 3, 4, 5), body)
        inspect = self.store.podman("inspect", "--format",
                                    "{{.HostConfig.ReadonlyRootfs}} {{.Config.User}} {{.HostConfig.SecurityOpt}} "
                                    "{{len .HostConfig.CapAdd}}", name).stdout.split()
        self.assertEqual(inspect, ["true", "1000:1000", "[no-new-privileges]", "0"])
        self.store.podman("kube", "down", str(manifest))
        self.assertEqual(self.store.podman("ps", "--all", "--quiet").stdout.strip(), "")
        with self.assertRaises(OSError):
            podman.request(port, b"GET / HTTP/1.1\r\nHost: t\r\n\r\n", timeout=2)


if __name__ == "__main__":
    unittest.main()
