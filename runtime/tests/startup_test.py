"""The launcher starts, logs its settings once and refuses bad settings in one line."""

import json
import os
import subprocess
import tempfile
import unittest

import support

TIANGOLO_CONF = """\
import os
bind = os.environ["BIND"]
workers = 1
keepalive = 120
errorlog = "-"
"""


class StartupTest(unittest.TestCase):
    def test_serves_and_logs_settings_once(self):
        server = support.start(self, support.base_env(WEB_CONCURRENCY="2"))
        self.assertEqual(support.http_request(server.port, "GET", "/any/path"),
                         (200, b"Hello, world!\n"))
        self.assertEqual(support.http_request(server.port, "HEAD", "/")[0], 200)
        records = [line for line in server.stderr().splitlines() if line.startswith("{")]
        self.assertEqual(len(records), 1, server.stderr())
        record = json.loads(records[0])
        self.assertEqual(record["app_module"], "app.main:app")
        self.assertEqual(record["workers"], 2)
        self.assertEqual(record["worker_tmp_dir"], "/dev/shm")
        self.assertIsNone(record["pidfile"])
        self.assertTrue(record.get("control_socket_disable", True))
        self.assertEqual(len(server.wait_workers(2)), 2)

    def test_bad_values_exit_with_one_line(self):
        cases = {
            "PORT": {"PORT": "abc", "BIND": ""},
            "WEB_CONCURRENCY": {"WEB_CONCURRENCY": "0"},
            "MODULE_NAME": {"MODULE_NAME": "no_such_module"},
            "VARIABLE_NAME": {"VARIABLE_NAME": "no_such_variable"},
            "APP_MODULE": {"APP_MODULE": "app.main:nothing"},
        }
        for variable, env in cases.items():
            with self.subTest(variable=variable):
                result = subprocess.run(
                    support.server_command(), env=support.base_env(**env),
                    capture_output=True, text=True, timeout=30)
                self.assertNotEqual(result.returncode, 0)
                lines = result.stderr.strip().splitlines()
                self.assertEqual(len(lines), 1, result.stderr)
                self.assertIn(f"{variable}:", lines[0])

    def test_help(self):
        result = subprocess.run(support.server_command() + ["--help"], capture_output=True,
                                text=True, timeout=30, env=support.base_env())
        self.assertEqual(result.returncode, 0)
        for name in ("APP_MODULE", "WEB_CONCURRENCY", "MAX_BODY", "/dev/shm"):
            self.assertIn(name, result.stdout)


class ReadOnlyRootTest(unittest.TestCase):
    """No writable /tmp or /var/tmp, as on readOnlyRootFilesystem: true."""

    def test_runs_as_1000(self):
        support.require_sandbox(self, 1000, 1000)
        command = support.sandboxed(support.server_command(), uid=1000, gid=1000)
        server = support.start(self, support.base_env(WEB_CONCURRENCY="1"), command)
        self.assertEqual(support.http_request(server.port, "GET", "/")[0], 200)

    def test_runs_as_arbitrary_uid_gid_0_without_home(self):
        support.require_sandbox(self, 1000740000, 0)
        command = support.sandboxed(support.server_command(), uid=1000740000, gid=0)
        env = support.base_env(WEB_CONCURRENCY="1", HOME="/nonexistent")
        server = support.start(self, env, command)
        self.assertEqual(support.http_request(server.port, "GET", "/")[0], 200)

    def test_unwritable_dev_shm_is_one_line(self):
        support.require_sandbox(self)
        command = support.sandboxed(support.server_command(), uid=1000, gid=1000,
                                    ro=("/tmp", "/var/tmp", "/dev/shm"))
        result = subprocess.run(command, env=support.base_env(), capture_output=True,
                                text=True, timeout=30)
        self.assertNotEqual(result.returncode, 0)
        self.assertEqual(result.stderr.strip().splitlines(),
                         ["workload_server: error: heartbeat worker_tmp_dir: "
                          "/dev/shm is not writable by uid 1000"])

    def test_seed_setup_fails_where_ours_starts(self):
        """The seed: gunicorn -k egg:meinheld#gunicorn_worker -c tiangolo's conf."""
        support.require_sandbox(self)
        with tempfile.NamedTemporaryFile("w", suffix=".py", dir="/dev/shm",
                                         delete=False) as conf:
            conf.write(TIANGOLO_CONF)
        self.addCleanup(os.unlink, conf.name)
        os.chmod(conf.name, 0o644)
        seed = support.sandboxed(
            support.server_command(("-m", "gunicorn", "-k", "egg:meinheld#gunicorn_worker",
                                    "-c", conf.name, "app.main:app")),
            uid=1000, gid=1000)
        env = support.base_env(PYTHONDONTWRITEBYTECODE="1")  # gunicorn imports the conf
        server = support.start(self, env, seed, expect_ready=False)
        self.assertFalse(server.wait_ready(timeout=8), server.stderr())
        server.process.wait(timeout=10)
        self.assertNotEqual(server.process.returncode, 0)
        self.assertIn("No usable temporary directory", server.stderr())

        ours = support.sandboxed(support.server_command(), uid=1000, gid=1000)
        ours_server = support.start(self, support.base_env(GUNICORN_CONF=conf.name), ours)
        self.assertEqual(support.http_request(ours_server.port, "GET", "/")[0], 200)


if __name__ == "__main__":
    unittest.main()
