#!/usr/bin/env python3
"""Builds a copy of the kit per example of examples/, as a user would, and serves it.

For each example (or those named): clone the kit's committed HEAD into a temporary
folder, replace its app/app, tests and requirements files with the example's, then run
the README's commands there: ./bazelw run //:requirements.update, ./bazelw test //...
(all but the server's serve and abuse tests, which serve the kit's own hello app and
run in the kit's own CI), and ./bazelw run
//:run, read-only on a free port of 127.0.0.1, with a real PostgreSQL started on
loopback first if example.json asks for one, and example.json's "env" settings. The
answers must match example.json's "expect" list, and its "concurrently" requests, sent at
once, must all be answered 200 within its bound. Everything started is stopped and the
copy removed, pass or fail.

Usage: .ci/examples.py [--keep] [EXAMPLE...]
"""

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List, Optional

KIT = Path(__file__).resolve().parent.parent
EXAMPLES = KIT / "examples"
sys.path.insert(0, str(KIT))
from testing.ports import free_port  # noqa: E402  (the kit's test helpers, found through the line above)

USER_FILES = ["requirements.txt", "requirements_test.txt", "requirements_debian.txt"]
SKIPPED_TESTS = ["-//image/tests:abuse_test", "-//image/tests:serve_test"]
SERVE_TIMEOUT = 300.0
STOP_TIMEOUT = 60.0


class ExampleError(Exception):
    """An example that does not work; the message is one line."""


def say(name: str, text: str) -> None:
    """One progress line."""
    print(f"examples: {name}: {text}", file=sys.stderr, flush=True)


def run(copy: Path, *args: str) -> None:
    """./bazelw ARGS in the copy; its output goes to ours."""
    if subprocess.run(["./bazelw", *args], cwd=str(copy), check=False).returncode != 0:
        raise ExampleError("./bazelw %s failed (see above)" % " ".join(args))


def make_copy(example: Path, copy: Path) -> None:
    """A clone of the kit with the example's user files in place of the kit's."""
    subprocess.run(["git", "clone", "--quiet", str(KIT), str(copy)], check=True)
    shutil.rmtree(copy / "app" / "app")
    for old in (copy / "tests").iterdir():
        if old.name not in ("BUILD.bazel", "BUILD"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
    shutil.copytree(example / "app" / "app", copy / "app" / "app")
    for test in (example / "tests").iterdir():
        (shutil.copytree if test.is_dir() else shutil.copy)(test, copy / "tests" / test.name)
    for name in USER_FILES:
        if (example / name).is_file():
            shutil.copy(example / name, copy / name)


class Postgres:
    """Debian's PostgreSQL from the build root, on 127.0.0.1, as 'nobody'."""

    def __init__(self, copy: Path) -> None:
        self.copy = copy
        self.home = copy / ".postgres"
        self.port = free_port()
        self.process: Optional[subprocess.Popen] = None
        self.url = f"postgresql://test@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        """initdb, then the server in the background; returns once it accepts connections."""
        self.home.mkdir()
        shutil.chown(self.home, "nobody")
        as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
        bindir = "$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
        run(self.copy, "--exec", "bash", "-c", f'exec {" ".join(as_nobody)} {bindir}/initdb -D {self.home}/data '
                                                f'-U test --auth=trust --no-sync >/dev/null')
        self.process = subprocess.Popen(
            ["./bazelw", "--exec", "bash", "-c", f'exec {" ".join(as_nobody)} {bindir}/postgres -D {self.home}/data '
             f'-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories= -c fsync=off'],
            cwd=str(self.copy), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + SERVE_TIMEOUT
        while not self._accepting():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise ExampleError("PostgreSQL did not start")
            time.sleep(0.2)

    def _accepting(self) -> bool:
        try:
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
            return True
        except OSError:
            return False

    def stop(self) -> None:
        """Stops the server (SIGTERM: PostgreSQL's smart shutdown) if it runs."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=STOP_TIMEOUT)


def get(port: int, path: str) -> tuple:
    """(status, body) of GET PATH; any HTTP status is an answer."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
            return response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def check_concurrently(name: str, port: int, check: dict) -> None:
    """check["requests"] GETs of check["path"] at once: all 200 within check["within"] s."""
    started = time.monotonic()
    with ThreadPoolExecutor(check["requests"]) as pool:
        statuses = [status for status, _ in pool.map(lambda _: get(port, check["path"]), range(check["requests"]))]
    elapsed = time.monotonic() - started
    if statuses != [200] * check["requests"] or elapsed >= check["within"]:
        raise ExampleError("%d x GET %s at once: %s in %.2f s; expected all 200 within %.1f s"
                           % (check["requests"], check["path"], statuses, elapsed, check["within"]))
    say(name, "%d x GET %s at once -> 200 in %.2f s, as expected" % (check["requests"], check["path"], elapsed))


def serve_and_check(name: str, copy: Path, env: Dict[str, str], spec: dict) -> None:
    """./bazelw run //:run in the background, then each expected answer, then Ctrl-C."""
    port = free_port()
    command = ["./bazelw", "run", "//:run", "--", "--port", str(port)]
    for key, value in sorted(env.items()):
        command += ["-e", f"{key}={value}"]
    server = subprocess.Popen(command, cwd=str(copy), start_new_session=True)
    try:
        deadline = time.monotonic() + SERVE_TIMEOUT
        while True:
            try:
                get(port, "/")
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise ExampleError("//:run did not serve on port %d" % port) from None
                time.sleep(0.5)
        for check in spec["expect"]:
            status, body = get(port, check["path"])
            if status != check["status"] or check["contains"] not in body:
                raise ExampleError("GET %s answered %d %r; expected %d containing %r"
                                   % (check["path"], status, body[:300], check["status"], check["contains"]))
            say(name, "GET %s -> %d, as expected" % (check["path"], status))
        if "concurrently" in spec:
            check_concurrently(name, port, spec["concurrently"])
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGINT)
            try:
                server.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


def check_example(example: Path, keep: bool) -> None:
    """The whole journey for one example."""
    name = example.name
    spec = json.loads((example / "example.json").read_text())
    copy = Path(tempfile.mkdtemp(prefix=f"kit-example-{name}-")) / "kit"
    copy.parent.chmod(0o755)  # the database runs as 'nobody', below the copy
    postgres = Postgres(copy)
    try:
        say(name, f"copy of the kit with the example in {copy} (1/4)")
        make_copy(example, copy)
        say(name, "./bazelw run //:requirements.update (2/4)")
        run(copy, "run", "//:requirements.update")
        say(name, "./bazelw test //... (3/4)")
        run(copy, "test", "--test_summary=terse", "--curses=no", "--show_progress_rate_limit=30",
            "--", "//...", *SKIPPED_TESTS)
        env = dict(spec.get("env", {}))
        if spec.get("postgresql"):
            say(name, "starting PostgreSQL on 127.0.0.1:%d" % postgres.port)
            postgres.start()
            env[spec["postgresql"]] = postgres.url
        say(name, "./bazelw run //:run, read-only, and its answers (4/4)")
        serve_and_check(name, copy, env, spec)
    finally:
        postgres.stop()
        if copy.exists():
            subprocess.run(["./bazelw", "shutdown"], cwd=str(copy), check=False, capture_output=True)
        if not keep:
            shutil.rmtree(copy.parent, ignore_errors=True)


def main(argv: List[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], epilog=__doc__.split("\n\n", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("examples", nargs="*", help="examples to check (default: all of examples/)")
    parser.add_argument("--keep", action="store_true", help="keep each copy (its path is printed)")
    args = parser.parse_args(argv)
    names = args.examples or sorted(p.name for p in EXAMPLES.iterdir() if (p / "example.json").is_file())
    for name in names:
        if not (EXAMPLES / name / "example.json").is_file():
            print(f"examples: no example {name!r} in {EXAMPLES}", file=sys.stderr)
            return 2
    for name in names:
        started = time.monotonic()
        try:
            check_example(EXAMPLES / name, args.keep)
        except ExampleError as error:
            print(f"examples: {name}: FAILED: {error}", file=sys.stderr)
            return 1
        say(name, "passed in %.0f s" % (time.monotonic() - started))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
