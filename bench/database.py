"""The workloads' PostgreSQL: Debian's newest from the build root, on 127.0.0.1, as 'nobody', on the
load CPU, with TechEmpower's tables: world (10,000 rows of random numbers) and fortune (their 12).

Started the way .ci/examples.py starts the postgres example's (initdb, then the server with TCP on
loopback only and no Unix socket); data in a temporary directory under the build root's /tmp;
stopped by PID (fast shutdown) and removed by stop().
"""

from __future__ import annotations

import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path
from typing import List, Optional

from common import LOAD_CPU, ROOT_SH, STOP_TIMEOUT, BenchError, free_port, root_dir

START_TIMEOUT = 60.0
USER = "bench"
MAX_CONNECTIONS = 500  # gevent: one connection per client connection and worker; every idle server keeps its own
WORLD_ROWS = 10000
FORTUNES = [  # TechEmpower's fortune table, ids 1 to 12
    "fortune: No such file or directory",
    "A computer scientist is someone who fixes things that aren't broken.",
    "After enough decimal places, nobody gives a damn.",
    "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1",
    "A computer program does what you tell it to do, not what you want it to do.",
    "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen",
    "Any program that runs right is obsolete.",
    "A list is only as strong as its weakest link. — Donald Knuth",
    "Feature: A bug with seniority.",
    "Computers make very fast, very accurate mistakes.",
    '<script>alert("This should not be displayed in a browser alert box.");</script>',
    "フレームワークのベンチマーク",
]
AS_NOBODY = "setpriv --reuid=nobody --regid=nogroup --clear-groups"


def quote(text: str) -> str:
    """TEXT as an SQL string literal."""
    return "'%s'" % text.replace("'", "''")


def schema_sql() -> str:
    """The tables and their rows; world's random numbers are drawn by the server."""
    fortunes = ",\n".join("(%d, %s)" % (index, quote(message)) for index, message in enumerate(FORTUNES, 1))
    return (
        "SET client_encoding = 'UTF8';\n"
        "CREATE TABLE world (id integer NOT NULL PRIMARY KEY, randomnumber integer NOT NULL DEFAULT 0);\n"
        "INSERT INTO world (id, randomnumber)\n"
        "  SELECT i, 1 + floor(random() * %d)::integer FROM generate_series(1, %d) AS i;\n"
        "CREATE TABLE fortune (id integer NOT NULL PRIMARY KEY, message varchar(2048) NOT NULL);\n"
        "INSERT INTO fortune (id, message) VALUES\n%s;\n"
        "VACUUM ANALYZE;\n" % (WORLD_ROWS, WORLD_ROWS, fortunes)
    )


class Postgres:
    """One PostgreSQL server for the benchmarks; start() creates, fills and starts it, stop() removes it."""

    def __init__(self) -> None:
        root = root_dir()
        found = sorted(root.glob("usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.parent.parent.name))
        if not found:
            raise BenchError("no PostgreSQL in the build root (/usr/lib/postgresql/*/bin/postgres)")
        self.bindir = "/" + str(found[-1].parent.relative_to(root))
        self.version = found[-1].parent.parent.name
        self.host_dir = Path(tempfile.mkdtemp(prefix="bench-pg-", dir=root / "tmp"))
        self.dir = "/tmp/" + self.host_dir.name  # seen from inside the root
        self.port = free_port()
        self.url = "postgresql://%s@127.0.0.1:%d/postgres" % (USER, self.port)
        self.process: Optional[subprocess.Popen] = None

    def _root(self, *command: str, stdin: Optional[str] = None, timeout: float = START_TIMEOUT) -> str:
        """Runs COMMAND in the build root; returns its output, raises BenchError when it fails."""
        result = subprocess.run(
            [ROOT_SH, *command], input=stdin, capture_output=True, text=True, timeout=timeout, check=False
        )
        if result.returncode != 0:
            raise BenchError("%s failed: %s" % (command[0], (result.stderr or result.stdout).strip()[-300:]))
        return result.stdout

    def _psql(self, sql: str) -> str:
        """Runs SQL with psql as the database's owner; returns its unaligned output."""
        return self._root(
            self.bindir + "/psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1",
            "-h", "127.0.0.1", "-p", str(self.port), "-U", USER, "-d", "postgres", stdin=sql,
        )

    def start(self) -> None:
        """initdb, the server on the load CPU, the tables; returns once they answer."""
        self._root("chown", "nobody:nogroup", self.dir)
        self._root("bash", "-c", "exec %s %s/initdb -D %s/data -U %s --auth=trust --no-sync -E UTF8 --locale=C"
                   % (AS_NOBODY, self.bindir, self.dir, USER))
        self.process = subprocess.Popen(
            [
                "taskset", "-c", LOAD_CPU, ROOT_SH, "bash", "-c",
                "exec %s %s/postgres -D %s/data -p %d -c listen_addresses=127.0.0.1 -c unix_socket_directories= "
                "-c fsync=off -c synchronous_commit=off -c max_connections=%d"
                % (AS_NOBODY, self.bindir, self.dir, self.port, MAX_CONNECTIONS),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT
        while subprocess.run(
            [ROOT_SH, self.bindir + "/pg_isready", "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True, timeout=START_TIMEOUT, check=False,
        ).returncode != 0:
            if self.process.poll() is not None:
                raise BenchError("postgres exited with status %d at start" % self.process.returncode)
            if time.monotonic() > deadline:
                raise BenchError("postgres did not accept connections within %.0f s" % START_TIMEOUT)
            time.sleep(0.2)
        self._psql(schema_sql())

    def counts(self) -> List[int]:
        """Rows of world and of fortune."""
        return [int(n) for n in self._psql("SELECT count(*) FROM world; SELECT count(*) FROM fortune;").split()]

    def server_version(self) -> str:
        """The server's version string (e.g. 18.1)."""
        return self._psql("SHOW server_version;").strip().split()[0]

    def stop(self) -> None:
        """Fast shutdown (SIGINT: ends the sessions still open), immediate (SIGQUIT) if that hangs; removes the data."""
        process = self.process
        if process is not None and process.poll() is None:
            for signum in (signal.SIGINT, signal.SIGQUIT, signal.SIGKILL):
                process.send_signal(signum)
                try:
                    process.wait(STOP_TIMEOUT)
                    break
                except subprocess.TimeoutExpired:
                    continue
        shutil.rmtree(self.host_dir, ignore_errors=True)
