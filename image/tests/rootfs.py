"""An image's file system unpacked, and its Python run there under bubblewrap: read-only,
as the image's user, natively or, for another CPU, through qemu's user-mode emulator.

Needs root (the build root is a chroot, where bwrap cannot map uids): the command drops
to the image's user itself before anything else. Without binfmt handlers, qemu cannot
follow an exec() of a program of the other CPU; the image's server forks, never execs.
"""

from __future__ import annotations

import platform
import subprocess
import tarfile
from pathlib import Path
from typing import Dict, Iterable, List, Optional

import elf
from image_layout import Image

EMULATOR_MOUNT = "/dev/emulator"  # in bwrap's fresh /dev: the read-only root stays untouched


def unpack(layers: Iterable[Path | str], root: Path | str) -> None:
    """Extracts layer tars (plain or gzip) in order into root, keeping owners, modes and links."""
    for layer in layers:
        with tarfile.open(layer) as archive:
            archive.extractall(root, filter="fully_trusted")


def emulator(architecture: str) -> Optional[str]:
    """qemu's user-mode emulator for a Debian architecture, or None for this machine's own."""
    cpu = elf.ARCHITECTURES[architecture].name
    return None if cpu == platform.machine() else "/usr/bin/qemu-" + cpu


class Rootfs:
    """The unpacked file system of one image, and how to run its Python there."""

    def __init__(self, image: Image, root: Path) -> None:
        unpack(image.layer_paths(), root)
        self.root = root
        self.architecture: str = image.config["architecture"]
        self.settings: dict = image.config["config"]

    def command(self, code: str, env: Optional[Dict[str, str]] = None, network: bool = True,
                mounts: Optional[Dict[str, Path]] = None) -> List[str]:
        """bwrap running the image's python3 -c CODE as the image's user, with the image's
        environment (plus ENV), /dev/shm the one writable path; NETWORK False: loopback
        only; MOUNTS: image directory -> host directory, mounted read-only over it."""
        uid, gid = (int(part) for part in self.settings["User"].split(":"))
        drop = f"import os; os.setgroups([]); os.setgid({gid}); os.setuid({uid})\n"
        command = ["bwrap", "--ro-bind", str(self.root), "/", "--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/dev/shm",
                   "--die-with-parent", "--chdir", self.settings["WorkingDir"], "--clearenv"]
        if not network:
            command.append("--unshare-net")
        for target, source in sorted((mounts or {}).items()):
            command += ["--ro-bind", str(source), target]
        variables = dict(item.split("=", 1) for item in self.settings["Env"]) | (env or {})
        for key, value in sorted(variables.items()):
            command += ["--setenv", key, value]
        qemu = emulator(self.architecture)
        prefix = [EMULATOR_MOUNT] if qemu else []
        if qemu:
            command += ["--ro-bind", qemu, EMULATOR_MOUNT]
        return command + prefix + [self.settings["Entrypoint"][0], "-c", drop + code]

    def server_code(self) -> str:
        """Python code that runs the image's entry point (python3 -m MODULE) in-process."""
        _, flag, module = self.settings["Entrypoint"]
        if flag != "-m":
            raise ValueError(f"the entry point {self.settings['Entrypoint']} is not python3 -m MODULE")
        return f"import runpy; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"

    def run(self, code: str, timeout: float, **kwargs) -> subprocess.CompletedProcess:
        """Runs python3 -c CODE in the image (see command) and waits for it."""
        return subprocess.run(self.command(code, **kwargs), capture_output=True, text=True, timeout=timeout, check=False)

    def start(self, code: str, **kwargs) -> subprocess.Popen:
        """Starts python3 -c CODE in the image (see command), its output to log_path()."""
        with open(self.log_path(), "wb") as log:
            return subprocess.Popen(self.command(code, **kwargs), stdout=log, stderr=subprocess.STDOUT)

    def log_path(self) -> Path:
        """Where start() writes the output: beside the root."""
        return Path(self.root).with_suffix(".log")
