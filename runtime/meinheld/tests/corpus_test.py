"""Every case of the parser corpus (corpus/*.json, see corpus.py) against the kit's
meinheld serving the echo app: run directly (serve.py), under gunicorn with the
minimal worker class (gworker.Worker), and under gunicorn as the image runs it (the
launcher, workload_server, with the kit's worker class).

One subTest per case and per check: "outcome" (the requests the app saw, the error
status, the connection closed or kept), and "log": a refused case must produce
exactly one rejection line through the error logger's info() (one line, holding the
status, printable ASCII only: never the request's raw bytes); an accepted case none.
A request to the echo app's mark path after each case cuts the server's stderr into
one window per case, in the order the server wrote it.
"""

import importlib.util
import json
import os
import re
import unittest
from typing import Callable, List, Optional, Tuple

import corpus
import echo
import serve
import support

CASES = corpus.load()
MARK_BOUND = 5.0
PRINTABLE = re.compile(r"[ -~]*")
GUNICORN_INFO = re.compile(r"^\[[^]]*\] \[\d+\] \[INFO\] (.*)$")


def direct_info(line: str) -> Optional[str]:
    """The message of a rejection line of serve.py's echo logger, else None."""
    if not line.startswith(serve.INFO_PREFIX):
        return None
    return json.loads(line[len(serve.INFO_PREFIX):])


def gunicorn_info(line: str) -> Optional[str]:
    """The message of a gunicorn [INFO] log line, else None."""
    match = GUNICORN_INFO.match(line)
    return match.group(1) if match else None


class LogWindows:
    """Cuts a server's stderr at the echo app's marks: the lines written since the last one."""

    def __init__(self, server: support.Server) -> None:
        self.server = server
        self.seen = 0
        self.count = 0

    def next(self) -> List[str]:
        """Sends a mark and returns the stderr lines written before it since the previous mark."""
        self.count += 1
        label = "case-%d" % self.count
        with corpus.connect(self.server.port) as sock:
            sock.sendall(corpus.mark_request(label))
            support.Reader(sock).response()
        mark = echo.MARK_PREFIX + label
        found = support.wait_until(lambda: self._until(mark), MARK_BOUND, 0.005, "the mark %r on stderr" % mark)
        return found[0]

    def _until(self, mark: str) -> Optional[Tuple[List[str]]]:
        """(the lines before MARK since the last mark,) once MARK is on stderr, else None."""
        lines = self.server.stderr_text().splitlines()
        if mark not in lines[self.seen:]:
            return None
        end = lines.index(mark, self.seen)
        window = lines[self.seen:end]
        self.seen = end + 1
        return (window,)


def check_log(case: corpus.Case, window: List[str], info: Callable[[str], Optional[str]]) -> Optional[str]:
    """None when WINDOW (a case's stderr lines) holds the rejection lines CASE calls for."""
    messages, others = [], []
    for line in window:
        message = info(line)
        if message is None:
            others.append(line)
        else:
            messages.append(message)
    problems = ["an unexpected stderr line: %r" % line for line in others]
    if case.refused:
        if len(messages) != 1:
            problems.append("%d rejection lines, expected 1: %r" % (len(messages), messages))
        elif str(case.status) not in messages[0]:
            problems.append("the rejection line %r does not hold the status %d" % (messages[0], case.status))
    elif messages:
        problems.append("an accepted case logged %r" % messages)
    for message in messages:
        if not PRINTABLE.fullmatch(message):
            problems.append("a rejection line holds bytes that are not printable ASCII: %r" % message)
    return "\n".join(problems) or None


class CorpusMixin:
    """Runs the corpus against the server start() returns; INFO reads its rejection lines."""

    LABEL = ""

    def start(self) -> Tuple[support.Server, Callable[[str], Optional[str]]]:
        raise NotImplementedError

    def workers(self, server: support.Server) -> List[int]:
        return [server.pid]

    def test_corpus(self) -> None:
        server, info = self.start()
        workers = self.workers(server)
        windows = LogWindows(server)
        windows.next()  # start-up lines
        failed = []
        for case in CASES:
            outcome = corpus.run(server.port, case)
            difference = corpus.compare(case, outcome)
            with self.subTest(case=case.name, check="outcome"):
                if difference:
                    failed.append(case.name)
                    self.fail("%s/%s (%s):\n%s" % (case.group, case.name, case.why, difference))
            window = windows.next()
            with self.subTest(case=case.name, check="log"):
                problem = check_log(case, window, info)
                if problem:
                    self.fail("%s/%s:\n%s" % (case.group, case.name, problem))
        print("\n%s: %d of %d cases as the corpus expects%s" % (
            self.LABEL, len(CASES) - len(failed), len(CASES),
            (": differing " + ", ".join(failed)) if failed else ""))
        self.assertTrue(server.alive(), server.stderr_text()[-3000:])
        self.assertEqual(self.workers(server), workers, "a worker was replaced:\n" + server.stderr_text()[-3000:])
        self.assertNotRegex(server.stderr_text(), "Traceback|Segmentation|WORKER TIMEOUT")


class DirectTest(CorpusMixin, support.ServerTestCase):
    LABEL = "meinheld direct"

    def start(self):
        server = support.start_direct(self, app="echo", keepalive=30, max_content_length=corpus.MAX_BODY)
        return server, direct_info


class GunicornMixin(CorpusMixin):
    def workers(self, server: support.Server) -> List[int]:
        return sorted(support.children(server.pid))

    def start_workers(self, server: support.Server) -> None:
        support.wait_until(lambda: len(self.workers(server)) == 1, 10, 0.05, "one worker")


class GunicornWorkerTest(GunicornMixin, support.ServerTestCase):
    LABEL = "meinheld under gunicorn (gworker.Worker)"

    def start(self):
        server = support.start_gunicorn(self, "gworker.Worker", "--keep-alive", "30", app="echo:app",
                                        env={"GWORKER_MAX_BODY": str(corpus.MAX_BODY)})
        self.start_workers(server)
        return server, gunicorn_info


class LauncherTest(GunicornMixin, support.ServerTestCase):
    LABEL = "meinheld under the launcher (workload_server.worker.MeinheldWorker)"

    def start(self):
        spec = importlib.util.find_spec("workload_server")
        self.assertTrue(spec and spec.submodule_search_locations,
                        "workload_server (runtime/) must be on PYTHONPATH to run the launcher's case")
        package_parent = os.path.dirname(list(spec.submodule_search_locations)[0])
        pythonpath = os.pathsep.join(filter(None, [support.HERE, package_parent, os.environ.get("PYTHONPATH")]))
        env = {"PYTHONPATH": pythonpath, "APP_MODULE": "echo:app", "WEB_CONCURRENCY": "1",
               "MAX_BODY": str(corpus.MAX_BODY), "ACCESS_LOG": "", "LOG_LEVEL": "info", "KEEP_ALIVE": "30",
               "GUNICORN_CONF": "", "ERROR_LOG": ""}

        def argv(port: int) -> List[str]:
            env["BIND"] = "127.0.0.1:%d" % port
            return [support.PYTHON, "-m", "workload_server"]

        server = support._start(self, argv, env, 30)
        self.start_workers(server)
        return server, gunicorn_info


class CheckLogTest(unittest.TestCase):
    """check_log itself, on made-up stderr windows (no server)."""

    REFUSED = corpus.Case("g", "refused", "why", [b"x"], [], status=400)
    ACCEPTED = corpus.Case("g", "accepted", "why", [b"x"], [{"body": ""}])

    def test_one_line_with_the_status(self) -> None:
        self.assertIsNone(check_log(self.REFUSED, ['meinheld-info: "400 bad field name (GET)"'], direct_info))
        line = "[2026-12-04 14:26:05 +0000] [29033] [INFO] 400 obs-fold method=POST"
        self.assertIsNone(check_log(self.REFUSED, [line], gunicorn_info))

    def test_refused_without_a_line(self) -> None:
        self.assertIn("0 rejection lines", check_log(self.REFUSED, [], direct_info))

    def test_two_lines(self) -> None:
        self.assertIn("2 rejection lines", check_log(self.REFUSED, ['meinheld-info: "400 a"'] * 2, direct_info))

    def test_status_missing(self) -> None:
        problem = check_log(self.REFUSED, ['meinheld-info: "bad request"'], direct_info)
        self.assertIn("does not hold the status", problem)

    def test_raw_bytes(self) -> None:
        line = serve.INFO_PREFIX + json.dumps("400 bad value X-\x1b[31m")
        self.assertIn("not printable", check_log(self.REFUSED, [line], direct_info))
        # a newline in a gunicorn log message splits it: the second half is an unexpected line
        line = "[2026-12-04 14:26:05 +0000] [29033] [INFO] 400 bad"
        self.assertIn("unexpected stderr line", check_log(self.REFUSED, [line, "Host: evil"], gunicorn_info))

    def test_accepted_logs_nothing(self) -> None:
        self.assertIsNone(check_log(self.ACCEPTED, [], direct_info))
        self.assertIn("an accepted case logged", check_log(self.ACCEPTED, ['meinheld-info: "400 x"'], direct_info))


if __name__ == "__main__":
    unittest.main()
