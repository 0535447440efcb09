"""//deploy:manifest carries the settings it must."""

import os
import unittest
from pathlib import Path

import render
import security
from workload_server import settings

import image_settings

MANIFEST = Path(os.environ["MANIFEST"])


class RenderTest(unittest.TestCase):
    def test_built_manifest_has_the_placeholder_image(self) -> None:
        self.assertEqual(MANIFEST.read_text(), render.dump(render.manifests(render.PLACEHOLDER_IMAGE)))

    def test_settings(self) -> None:
        deployment, service = render.manifests(render.PLACEHOLDER_IMAGE)
        pod = deployment["spec"]["template"]["spec"]  # type: ignore[index]
        container = pod["containers"][0]
        self.assertEqual(container["securityContext"], security.kubernetes_security_context())
        self.assertEqual(container["ports"], [{"name": "http", "containerPort": image_settings.settings()["port"]}])
        self.assertEqual(container["securityContext"]["runAsUser"], image_settings.settings()["user"]["uid"])
        self.assertEqual(container["lifecycle"], {"preStop": {"sleep": {"seconds": render.PRE_STOP_SECONDS}}})
        self.assertEqual(pod["terminationGracePeriodSeconds"],
                         render.PRE_STOP_SECONDS + settings.DEFAULT_GRACEFUL_TIMEOUT)
        self.assertRegex(container["image"], render.DIGEST_REFERENCE)
        for probe in ("readinessProbe", "livenessProbe"):
            self.assertEqual(container[probe]["httpGet"], {"path": "/", "port": "http"})
        self.assertEqual(service["spec"]["ports"][0]["targetPort"], "http")  # type: ignore[index]

    def test_scalars_are_quoted_where_yaml_would_misread_them(self) -> None:
        text = render.dump([{"a": "8080", "b": "true", "c": "x: y", "d": "plain/text", "e": 3, "f": False}])
        self.assertIn('a: "8080"\nb: "true"\nc: "x: y"\nd: plain/text\ne: 3\nf: false\n', text)

    def test_bad_image_is_one_line(self) -> None:
        self.assertEqual(render.main(["--image", "workload:latest"]), 2)


if __name__ == "__main__":
    unittest.main()
