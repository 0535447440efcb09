"""Another architecture's image ($EMULATED) for real, under qemu's user-mode emulator: its
own interpreter, from its own unpacked layers, read-only and as its user, imports every
module this machine's image ($IMAGE) imports (the standard library, every locked package,
the app), answers GET / with the status and content type that image gives (the body may
hold a time or an id), and serves the kit's hello app (answer known: 200, its text)
through the same server.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import tempfile
import unittest
from pathlib import Path

import containers
import image_settings
from testing import podman
from image_layout import Image
from testing.ports import free_port
from rootfs import Rootfs, emulator

START_TIMEOUT = 180.0  # emulated start-up: seconds, where the image natively takes 0.1
STOP_TIMEOUT = 60.0
IMPORT_ALL = r"""
import importlib, json, pkgutil, platform, sys
names = sorted(set(sys.stdlib_module_names) | {m.name for m in pkgutil.iter_modules(sys.path[1:]) if m.name != "__main__"})
names = [name for name in names if not name.startswith("_sysconfigdata_")]  # named after the CPU
failed = {}
for name in names:
    try:
        importlib.import_module(name)
    except BaseException as error:
        failed[name] = type(error).__name__
print(json.dumps({"machine": platform.machine(), "names": names, "failed": failed}))
"""


class EmulatedTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        scratch = Path(tempfile.mkdtemp(dir=os.environ.get("TEST_TMPDIR")))
        cls.native, cls.emulated = (Rootfs(Image(os.environ[variable]), scratch / variable)
                                    for variable in ("IMAGE", "EMULATED"))

    def test_every_module_imports_as_natively(self) -> None:
        probes = []
        for rootfs in (self.native, self.emulated):
            result = rootfs.run(IMPORT_ALL, timeout=START_TIMEOUT, network=False)
            self.assertEqual(result.returncode, 0, result.stderr[-3000:])
            probes.append(json.loads(result.stdout.splitlines()[-1]))
        native, emulated = probes
        machine = emulator(self.emulated.architecture).rsplit("qemu-", 1)[1]
        self.assertEqual((native["machine"], emulated["machine"]), (platform.machine(), machine))
        self.assertEqual(emulated["names"], native["names"])
        self.assertEqual(emulated["failed"], native["failed"])
        imported = len(emulated["names"]) - len(emulated["failed"])
        print(f"{self.emulated.architecture}: {imported} modules import, as natively", flush=True)
        self.assertGreater(imported, 250)

    def serve(self, rootfs: Rootfs, **kwargs) -> tuple:
        """(status, headers, body) of GET / from the image of ROOTFS, served as its entry
        point does; then SIGTERM, and the server must exit 0."""
        port = free_port()
        # One worker: its answer proves it booted, so the stop below is the graceful one
        # (a worker still booting, seconds under emulation, would just end: forksafe.py).
        env = {"HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1"}
        process = rootfs.start(rootfs.server_code(), env=env, **kwargs)
        try:
            answer = podman.wait_for_answer(port, lambda: process.poll() is None, START_TIMEOUT)
            if answer is None:
                raise AssertionError(f"no answer on port {port} (exit status {process.poll()}):\n"
                                     + rootfs.log_path().read_text()[-3000:])
            master = podman.children(process.pid)
            self.assertEqual(len(master), 1, master)
            os.kill(master[0], signal.SIGTERM)
            self.assertEqual(process.wait(timeout=STOP_TIMEOUT), 0, rootfs.log_path().read_text()[-3000:])
            return answer
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()

    def test_serves_the_apps_answer_as_natively(self) -> None:
        (emulated, emulated_headers, _), (native, native_headers, _) = self.serve(self.emulated), self.serve(self.native)
        self.assertEqual((emulated, emulated_headers.get("content-type")), (native, native_headers.get("content-type")))

    def test_serves_the_hello_app_200(self) -> None:
        hello = {image_settings.settings()["app_dir"]: containers.hello_app_dir()}
        status, _, body = self.serve(self.emulated, mounts=hello)
        self.assertEqual((status, body), (200, b"Hello, world!\n"))


if __name__ == "__main__":
    unittest.main()
