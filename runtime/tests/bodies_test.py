"""Request bodies stay in memory on a read-only /tmp; too large ones get 413."""

import hashlib
import unittest

import support

MAX_BODY = 2 * 1024 * 1024


def expected(body):
    return f"{len(body)} {hashlib.sha256(body).hexdigest()}".encode()


class BodyTest(unittest.TestCase):
    def setUp(self):
        support.require_sandbox(self)
        command = support.sandboxed(support.server_command(), uid=1000, gid=1000)
        env = support.base_env(APP_MODULE="wsgi_apps:app", WEB_CONCURRENCY="1",
                               MAX_BODY=str(MAX_BODY))
        self.server = support.start(self, env, command)
        self.worker = self.server.wait_workers(1)[0]

    def post(self, body, chunked=False):
        return support.http_request(self.server.port, "POST", "/echo", body,
                                    chunked=chunked, timeout=20)

    def test_600_kb_body_above_meinheld_spool_threshold(self):
        body = bytes(range(256)) * 2400  # 614,400 bytes > 512,000
        self.assertEqual(self.post(body), (200, expected(body)))

    def test_body_of_exactly_max_body(self):
        body = b"m" * MAX_BODY
        self.assertEqual(self.post(body), (200, expected(body)))

    def test_chunked_600_kb(self):
        body = b"c" * 614400
        self.assertEqual(self.post(body, chunked=True), (200, expected(body)))

    def test_max_body_plus_one_is_413(self):
        self.assertEqual(self.post(b"x" * (MAX_BODY + 1))[0], 413)

    def test_chunked_max_body_plus_one_is_413(self):
        self.assertEqual(self.post(b"x" * (MAX_BODY + 1), chunked=True)[0], 413)

    def tearDown(self):
        # Every case must leave the same worker alive (no SIGSEGV, no respawn).
        self.assertEqual(self.server.workers(), [self.worker], self.server.stderr())
        self.assertEqual(support.http_request(self.server.port, "GET", "/")[0], 200)


if __name__ == "__main__":
    unittest.main()
