"""A worker killed by SIGKILL or SIGSEGV under load is replaced; the server lives.

Control cases use meinheld's own worker class, to show what the tests catch.
"""

import concurrent.futures
import re
import subprocess
import os
import signal
import tempfile
import threading
import unittest

import support

THREADS = 8
REQUESTS = 400
KILL_AFTER = 100


def write_conf(test, text):
    """A GUNICORN_CONF file readable by any uid, removed after the test."""
    with tempfile.NamedTemporaryFile("w", suffix=".py", dir="/dev/shm", delete=False) as conf:
        conf.write(text)
    os.chmod(conf.name, 0o644)
    test.addCleanup(os.unlink, conf.name)
    return conf.name


class KillWorkerTest(unittest.TestCase):
    def run_load_and_kill(self, sig):
        """Kill one of two workers with ``sig`` mid-load; return the results."""
        server = support.start(self, support.base_env(WEB_CONCURRENCY="2", ACCESS_LOG=""))
        before = server.wait_workers(2)
        done = threading.Semaphore(0)

        def one(_):
            try:
                ok = support.http_request(server.port, "GET", "/", timeout=5)[0] == 200
            except OSError:
                ok = False
            done.release()
            return ok

        with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
            futures = [pool.submit(one, i) for i in range(REQUESTS)]
            for _ in range(KILL_AFTER):
                self.assertTrue(done.acquire(timeout=10))
            os.kill(before[0], sig)
            results = [f.result(timeout=30) for f in futures]
        return server, before, results

    def check_survives(self, sig):
        server, before, results = self.run_load_and_kill(sig)
        self.assertLessEqual(results.count(False), THREADS, server.stderr()[-2000:])
        self.assertTrue(all(results[KILL_AFTER + 4 * THREADS:]), "requests after the kill failed")
        self.assertIsNone(server.process.poll(), server.stderr()[-2000:])
        after = server.wait_workers(2, exclude=[before[0]])
        self.assertNotIn(before[0], after)
        for _ in range(20):
            self.assertEqual(support.http_request(server.port, "GET", "/")[0], 200)
        self.assertNotIn("TypeError", server.stderr())

    def test_sigkill(self):
        self.check_survives(signal.SIGKILL)

    def test_sigsegv(self):
        self.check_survives(signal.SIGSEGV)


class MeinheldOwnWorkerTest(unittest.TestCase):
    """meinheld's own worker class (meinheld.gmeinheld.MeinheldWorker), fixed where it
    lives by the kit's patches: upstream 1.0.2's took the whole server down when a worker
    died by SIGKILL (its logger patch made the master's log.error raise TypeError) and
    died of SIGSEGV on a 600 kB body on a read-only /tmp (tmpfile())."""

    def test_sigkill_of_a_worker_leaves_the_server_up(self):
        conf = write_conf(self, 'worker_class = "meinheld.gmeinheld.MeinheldWorker"\n')
        server = support.start(self, support.base_env(WEB_CONCURRENCY="2", GUNICORN_CONF=conf))
        before = server.wait_workers(2)
        os.kill(before[0], signal.SIGKILL)
        self.assertNotIn(before[0], server.wait_workers(2, exclude=[before[0]]))
        self.assertEqual(support.http_request(server.port, "GET", "/")[0], 200)
        self.assertIsNone(server.process.poll(), server.stderr()[-2000:])
        self.assertNotIn("TypeError", server.stderr())

    def test_600_kb_body_on_read_only_tmp(self):
        support.require_sandbox(self)
        conf = write_conf(self, 'worker_class = "meinheld.gmeinheld.MeinheldWorker"\n')
        command = support.sandboxed(support.server_command(), uid=1000, gid=1000)
        env = support.base_env(APP_MODULE="wsgi_apps:app", WEB_CONCURRENCY="1",
                               GUNICORN_CONF=conf)
        server = support.start(self, env, command)
        worker = server.wait_workers(1)[0]
        body = b"x" * 614400
        response = support.http_request(server.port, "POST", "/echo", body, timeout=10)
        self.assertEqual(response[0], 200)
        self.assertEqual(server.workers(), [worker])
        self.assertNotIn("SIGSEGV", server.stderr())


class MaxRequestsTest(unittest.TestCase):
    """Workers retire after MAX_REQUESTS (greenlet 1.1.3.post0 leaks per request)."""

    def test_worker_replaced_after_max_requests_without_failures(self):
        env = support.base_env(WEB_CONCURRENCY="1", ACCESS_LOG="", MAX_REQUESTS="50", MAX_REQUESTS_JITTER="0")
        server = support.start(self, env)
        first = server.wait_workers(1)
        statuses = [support.http_request(server.port, "GET", "/", timeout=10)[0] for _ in range(120)]
        self.assertEqual(statuses, [200] * 120, server.stderr()[-2000:])
        self.assertNotIn(first[0], server.wait_workers(1, exclude=first))
        self.assertGreaterEqual(server.stderr().count("Autorestarting worker"), 2, server.stderr()[-2000:])

    def test_busy_keep_alive_clients_do_not_hold_a_retired_worker(self):
        """wrk keeps 16 connections busy for 3 s. Unless a retiring worker closes its
        keep-alive connections, they hold it serving (its memory growing) until they
        end: one retirement in the whole run instead of one per MAX_REQUESTS."""
        env = support.base_env(WEB_CONCURRENCY="1", ACCESS_LOG="", MAX_REQUESTS="1000", MAX_REQUESTS_JITTER="0",
                               KEEP_ALIVE="30")
        server = support.start(self, env)
        server.wait_workers(1)
        wrk = subprocess.run(["wrk", "-t1", "-c16", "-d3s", "http://127.0.0.1:%d/" % server.port],
                             capture_output=True, text=True, timeout=30, check=True)
        requests = int(re.search(r"(\d+) requests in", wrk.stdout).group(1))
        self.assertNotIn("Non-2xx", wrk.stdout)
        self.assertGreater(requests, 3000, wrk.stdout)
        restarts = server.stderr().count("Autorestarting worker")
        self.assertGreaterEqual(restarts, requests // 1000 // 2, (requests, server.stderr()[-2000:]))


class StopDuringBootTest(unittest.TestCase):
    """SIGTERM while a worker boots: the worker ends at once, not at GRACEFUL_TIMEOUT."""

    def test_stop_while_a_worker_boots(self):
        # post_fork holds the worker before gunicorn installs its own signal handlers.
        conf = write_conf(self, "import time\n\ndef post_fork(server, worker):\n    time.sleep(20)\n")
        env = support.base_env(WEB_CONCURRENCY="1", GRACEFUL_TIMEOUT="60", GUNICORN_CONF=conf)
        server = support.start(self, env, expect_ready=False)
        # The worker logs this once forked (the master's own children, such as a helper
        # an import may spawn, do not): it is then in post_fork or about to be.
        booting = server.wait_log(r"Booting worker with pid: (\d+)")
        self.assertIn(int(booting.group(1)), server.workers())
        server.process.send_signal(signal.SIGTERM)
        self.assertEqual(server.process.wait(timeout=15), 0, server.stderr()[-2000:])


if __name__ == "__main__":
    unittest.main()
