"""Loads the workload image into podman and runs it as production would, until Ctrl-C.

Read-only root, no writable /tmp, user 1000:1000, every capability dropped, no new
privileges (image/settings.json), on the host network bound to 127.0.0.1:PORT. The
container is removed when this program ends, however it ends.
"""

import argparse
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import List, Optional

import image_settings
import security


def main(argv: Optional[List[str]] = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--load", required=True, help="the oci_load executable that loads the image")
    parser.add_argument("--repo-tags", required=True, help="file whose first line is the image's REPOSITORY:TAG")
    port = int(os.environ.get("PORT") or image_settings.settings()["port"])
    parser.add_argument("--port", type=int, default=port, help="port on 127.0.0.1 (default: $PORT, else the image's, %(default)s)")
    parser.add_argument("-e", "--env", action="append", default=[], metavar="KEY=VALUE", help="extra environment for the server")
    args = parser.parse_args(argv)

    with open(args.repo_tags) as repo_tags:
        image = repo_tags.readline().strip()
    # The oci_load launcher finds its files through RUNFILES_DIR: this program's runfiles.
    os.environ.setdefault("RUNFILES_DIR", str(Path(os.path.abspath(__file__)).parents[2]))
    if subprocess.run([args.load], check=False).returncode != 0:
        print("run: could not load %s into podman" % image, file=sys.stderr)
        return 1
    name = "workload-run-%d" % os.getpid()
    command = security.PODMAN + ["run", "--rm", "--name", name, "--network", "host", *security.podman_run_flags(),
                                 "--env", "HOST=127.0.0.1", "--env", "PORT=%d" % args.port]
    for item in args.env:
        command += ["--env", item]
    print("run: serving %s on http://127.0.0.1:%d/ (Ctrl-C stops it)" % (image, args.port), file=sys.stderr, flush=True)
    server = subprocess.Popen(command + [image])
    stop = lambda signum, frame: subprocess.run(security.PODMAN + ["stop", name], capture_output=True, check=False)
    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    try:
        return server.wait()
    finally:
        subprocess.run(security.PODMAN + ["rm", "--force", "--ignore", name], capture_output=True, check=False)


if __name__ == "__main__":
    os.environ.setdefault("PODMAN_IGNORE_CGROUPSV1_WARNING", "1")
    sys.exit(main())
