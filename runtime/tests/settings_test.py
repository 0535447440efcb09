"""Settings parsing: defaults, precedence and one-line errors (no server); the --help
text and runtime/README.md's table list exactly the variables the code reads."""

import os
import re
import subprocess
import sys
import unittest
from pathlib import Path

from workload_server import settings

README = Path(os.environ["README"])
IMAGE_PORT = {"PORT": "8080"}  # what the image's environment always holds


def parse(env, cpus=2.0, modules=("app.main",), files=(), base=IMAGE_PORT):
    """Parse ``env`` (over the image's PORT) with fake module and file lookups."""
    return settings.from_environ(
        {**base, **env}, cpus=cpus, module_exists=lambda m: m in modules,
        is_file=lambda p: p in files,
    )


class DefaultsTest(unittest.TestCase):
    def test_defaults(self):
        config = parse({})
        self.assertEqual(config.app_module, "app.main:app")
        self.assertEqual(config.bind, "0.0.0.0:8080")
        self.assertEqual(config.workers, 4)
        self.assertEqual(config.threads, 32)  # 64 per CPU across the workers
        self.assertEqual(config.log_level, "info")
        self.assertEqual(config.access_log, "-")
        self.assertEqual(config.error_log, "-")
        self.assertEqual((config.timeout, config.graceful_timeout, config.keep_alive),
                         (120, 120, 5))
        self.assertEqual(config.max_body, 10 * 1024 * 1024)
        self.assertEqual(config.worker_tmp_dir, "/dev/shm")
        self.assertIsNone(config.gunicorn_conf)

    def test_port_comes_from_the_environment(self):
        with self.assertRaisesRegex(settings.SettingsError, r"^PORT: not set \(the image sets it\)"):
            parse({}, base={})
        self.assertEqual(parse({"BIND": "127.0.0.1:9"}, base={}).bind, "127.0.0.1:9")
        self.assertEqual(parse({"BIND": "[::1]:9"}, base={}).bind, "[::1]:9")
        self.assertEqual(parse({"BIND": "unix:/dev/shm/s"}, base={}).bind, "unix:/dev/shm/s")
        for portless in ("127.0.0.1", "[::1]", "0.0.0.0:"):
            with self.assertRaisesRegex(settings.SettingsError, "^BIND: .* has no port; write HOST:PORT"):
                parse({"BIND": portless}, base={})

    def test_module_falls_back_to_main(self):
        self.assertEqual(parse({}, modules=("main",)).app_module, "main:app")

    def test_no_default_module(self):
        with self.assertRaisesRegex(settings.SettingsError, "^MODULE_NAME: "):
            parse({}, modules=())

    def test_conf_file_candidates_in_order(self):
        config = parse({}, files=("/app/app/gunicorn_conf.py", "/app/gunicorn_conf.py"))
        self.assertEqual(config.gunicorn_conf, "/app/gunicorn_conf.py")


class PrecedenceTest(unittest.TestCase):
    def test_app_module_overrides_module_and_variable(self):
        config = parse({"APP_MODULE": "pkg.mod:api", "MODULE_NAME": "x", "VARIABLE_NAME": "y"})
        self.assertEqual(config.app_module, "pkg.mod:api")
        self.assertEqual(config.module_source, "APP_MODULE")

    def test_module_and_variable(self):
        config = parse({"MODULE_NAME": "custom.main", "VARIABLE_NAME": "api"})
        self.assertEqual(config.app_module, "custom.main:api")

    def test_bind_overrides_host_and_port(self):
        self.assertEqual(parse({"BIND": "127.0.0.1:9", "PORT": "1"}).bind, "127.0.0.1:9")
        self.assertEqual(parse({"HOST": "127.0.0.1", "PORT": "81"}).bind, "127.0.0.1:81")
        self.assertEqual(parse({"HOST": "::1"}).bind, "[::1]:8080")

    def test_web_concurrency_overrides_workers_per_core(self):
        self.assertEqual(parse({"WEB_CONCURRENCY": "3", "WORKERS_PER_CORE": "8"}).workers, 3)

    def test_workers_follow_cpus(self):
        self.assertEqual(parse({}, cpus=0.5).workers, 1)
        self.assertEqual(parse({"WORKERS_PER_CORE": "3"}, cpus=1.5).workers, 4)
        self.assertEqual(parse({"WORKERS_PER_CORE": "0.1"}, cpus=1).workers, 1)

    def test_threads_follow_cpus_and_workers(self):
        self.assertEqual(parse({}, cpus=1).threads, 32)
        self.assertEqual(parse({}, cpus=0.5).threads, 32)  # one worker for half a CPU
        self.assertEqual(parse({"WEB_CONCURRENCY": "1"}, cpus=2).threads, 128)
        self.assertEqual(parse({"WEB_CONCURRENCY": "1"}, cpus=64).threads, 256)  # the pool's cap
        self.assertEqual(parse({"WEB_CONCURRENCY": "64"}, cpus=0.25).threads, 1)
        self.assertEqual(parse({"THREADS": "1"}).threads, 1)
        self.assertEqual(parse({"THREADS": "200", "WEB_CONCURRENCY": "1"}).threads, 200)

    def test_empty_values_are_unset(self):
        self.assertEqual(parse({"HOST": "", "WEB_CONCURRENCY": " "}).bind, "0.0.0.0:8080")
        with self.assertRaisesRegex(settings.SettingsError, "^PORT: not set"):
            parse({"PORT": " "})

    def test_empty_access_log_turns_it_off(self):
        self.assertIsNone(parse({"ACCESS_LOG": ""}).access_log)

    def test_explicit_gunicorn_conf(self):
        config = parse({"GUNICORN_CONF": "/c.py"}, files=("/c.py", "/app/gunicorn_conf.py"))
        self.assertEqual(config.gunicorn_conf, "/c.py")


class ErrorTest(unittest.TestCase):
    BAD = {
        "PORT": ["abc", "0", "65536"],
        "WEB_CONCURRENCY": ["0", "-1", "two"],
        "WORKERS_PER_CORE": ["0", "-2", "nan", "x"],
        "THREADS": ["0", "257", "many"],
        "LOG_LEVEL": ["loud"],
        "TIMEOUT": ["-1", "1.5"],
        "GRACEFUL_TIMEOUT": ["soon"],
        "KEEP_ALIVE": ["-3"],
        "MAX_BODY": ["0", "1073741825", "10MB"],
        "APP_MODULE": ["a b:c", "mod:"],
        "MODULE_NAME": ["a-b"],
        "VARIABLE_NAME": ["1x"],
        "GUNICORN_CONF": ["/missing.py"],
    }

    def test_each_bad_value_names_its_variable_in_one_line(self):
        for name, values in self.BAD.items():
            for value in values:
                with self.subTest(name=name, value=value):
                    with self.assertRaises(settings.SettingsError) as caught:
                        parse({name: value})
                    self.assertEqual(caught.exception.variable, name)
                    self.assertTrue(str(caught.exception).startswith(f"{name}: "))
                    self.assertNotIn("\n", str(caught.exception))


class DocumentationTest(unittest.TestCase):
    """VARIABLES is what the code reads, and what --help and the README show."""

    def test_every_variable_the_code_reads_is_listed(self):
        source = Path(settings.__file__).read_text()
        read = set(re.findall(r'environ, "([A-Z_]+)"', source)) | set(re.findall(r'_get\(environ, "([A-Z_]+)"\)', source))
        read |= {"ACCESS_LOG", "ERROR_LOG"}  # read through _log_target
        self.assertEqual(read, {v.name for v in settings.VARIABLES})

    def test_help_lists_every_variable(self):
        done = subprocess.run([sys.executable, "-m", "workload_server", "--help"], capture_output=True, text=True,
                              check=True, timeout=60)
        self.assertIn(settings.help_text(), done.stdout)
        for variable in settings.VARIABLES:
            self.assertRegex(done.stdout, r"\n  %s +" % variable.name)

    def test_readme_table_is_the_code_s(self):
        self.assertIn(settings.markdown_table(), README.read_text(),
                      "runtime/README.md's variable table differs from settings.VARIABLES; it should read:\n"
                      + settings.markdown_table())


if __name__ == "__main__":
    unittest.main()
