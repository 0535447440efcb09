"""Serves a directory as a Bazel HTTP remote cache: Debian's nginx on 127.0.0.1.

Writes DIR/nginx.conf (WebDAV PUT, no body size limit, a free port), starts nginx in
the foreground with its pid file, error log and cache (DIR/cache, owned by nobody, who
runs the workers) in DIR, and once nginx accepts connections writes the port to
DIR/port. It runs until nginx ends: stop it with `kill $(cat DIR/nginx.pid)`.
"""

from __future__ import annotations

import argparse
import grp
import os
import pwd
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from testing.ports import free_port  # noqa: E402  (the kit's test helpers, found through the line above)

NGINX = "/usr/sbin/nginx"
WORKER_USER = "nobody"
START_TIMEOUT = 15.0

CONFIG = """\
daemon off;
user {user} {group};
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    server {{
        listen 127.0.0.1:{port};
        root {dir}/cache;
        client_max_body_size 0;
        location / {{
            dav_methods PUT;
            create_full_put_path on;
        }}
    }}
}}
"""


class CacheError(Exception):
    """The cache server could not start; the message is one line."""


def write_config(directory: Path, port: int) -> Path:
    """Creates DIRECTORY's cache and temporary directories, owned by the workers' user,
    writes the nginx configuration there and returns its path."""
    worker = pwd.getpwnam(WORKER_USER)
    for parent in directory.parents:
        if not parent.stat().st_mode & 0o001:
            raise CacheError("%s is not searchable by %s, who runs nginx's workers (mode %o)"
                             % (parent, WORKER_USER, parent.stat().st_mode & 0o777))
    for sub in ("cache", "tmp"):
        (directory / sub).mkdir(parents=True, exist_ok=True)
        os.chown(directory / sub, worker.pw_uid, worker.pw_gid)
    config = directory / "nginx.conf"
    group = grp.getgrgid(worker.pw_gid).gr_name
    config.write_text(CONFIG.format(user=WORKER_USER, group=group, dir=directory, port=port))
    return config


def wait_until_listening(nginx: subprocess.Popen, port: int, log: Path) -> None:
    """Returns once 127.0.0.1:PORT accepts connections; raises CacheError if nginx ends
    or does not listen within START_TIMEOUT seconds."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            if nginx.poll() is not None or time.monotonic() > deadline:
                lines = log.read_text().strip().splitlines() if log.exists() else []
                raise CacheError("nginx did not start: %s" % (lines[-1] if lines else "no error logged"))
            time.sleep(0.1)


def main(argv: list[str]) -> int:
    """Command line entry point: serves until nginx ends, returns its exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", required=True, type=Path, help="directory for the cache, configuration, logs and port file")
    args = parser.parse_args(argv)
    directory = args.dir.absolute()
    try:
        directory.mkdir(parents=True, exist_ok=True)
        port = free_port()
        config = write_config(directory, port)
        nginx = subprocess.Popen([NGINX, "-p", str(directory), "-e", str(directory / "error.log"), "-c", str(config)])
        try:
            wait_until_listening(nginx, port, directory / "error.log")
        except CacheError:
            nginx.kill()
            nginx.wait()
            raise
        (directory / "port.tmp").write_text("%d\n" % port)
        (directory / "port.tmp").rename(directory / "port")
    except (OSError, KeyError, CacheError) as error:
        print("remote_cache: %s" % error, file=sys.stderr)
        return 1
    print("remote_cache: serving %s on http://127.0.0.1:%d (nginx pid %d)" % (directory / "cache", port, nginx.pid),
          file=sys.stderr, flush=True)
    return nginx.wait()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
