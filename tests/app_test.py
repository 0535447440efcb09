"""The WSGI contract of app.main.app: GET/HEAD answer 200, the rest 405."""

import http.client
import io
import sys
import threading
import unittest
import warnings
from typing import Dict, List, Optional, Tuple
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import support  # noqa: F401  (puts the app package on sys.path)
from app.main import app

PATHS = ["/", "/index.html", "/a/b/c", "/%C3%A9t%C3%A9", "/healthz", "/x/"]
QUERIES = ["", "q=1", "a=1&b=2", "empty=", "x=%20y&x=z"]
REFUSED = ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"]
Headers = List[Tuple[str, str]]


def header(headers: Headers, name: str) -> Optional[str]:
    """The value of header ``name`` (case-insensitive); fails if it is repeated."""
    values = [v for k, v in headers if k.lower() == name.lower()]
    if len(values) > 1:
        raise AssertionError(f"header {name} sent {len(values)} times")
    return values[0] if values else None


def call(method: str, path: str = "/", query: str = "", body: bytes = b"") -> Tuple[str, Headers, bytes]:
    """Call the app through wsgiref.validate, which raises on any WSGI violation."""
    environ: Dict[str, object] = {
        "REQUEST_METHOD": method,
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "CONTENT_LENGTH": str(len(body)),
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
    }
    setup_testing_defaults(environ)
    seen: Dict[str, object] = {}

    def start_response(status: str, headers: Headers, exc_info: object = None):
        seen["status"], seen["headers"] = status, headers
        return lambda data: None

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the validator reports some faults as warnings
        result = validator(app)(environ, start_response)
        try:
            data = b"".join(result)
        finally:
            result.close()
    return str(seen["status"]), list(seen["headers"]), data  # type: ignore[call-overload]


class AppContractTest(unittest.TestCase):
    """GET and HEAD on any path and query; 405 with Allow for anything else."""

    def test_get_answers_200_with_body_and_headers(self) -> None:
        for path in PATHS:
            for query in QUERIES:
                with self.subTest(path=path, query=query):
                    status, headers, body = call("GET", path, query)
                    self.assertEqual(status, "200 OK")
                    self.assertTrue(body)
                    self.assertEqual(header(headers, "Content-Length"), str(len(body)))
                    self.assertRegex(header(headers, "Content-Type") or "", r"^text/plain")

    def test_head_answers_200_without_body(self) -> None:
        _, get_headers, get_body = call("GET")
        for path in PATHS:
            for query in QUERIES:
                with self.subTest(path=path, query=query):
                    status, headers, body = call("HEAD", path, query)
                    self.assertEqual(status, "200 OK")
                    self.assertEqual(body, b"")
                    self.assertEqual(header(headers, "Content-Length"), str(len(get_body)))
                    self.assertEqual(header(headers, "Content-Type"), header(get_headers, "Content-Type"))

    def test_other_methods_get_405_with_allow(self) -> None:
        for method in REFUSED:
            for path, query in (("/", ""), ("/a/b", "q=1")):
                with self.subTest(method=method, path=path):
                    status, headers, body = call(method, path, query, b"payload")
                    self.assertEqual(status, "405 Method Not Allowed")
                    self.assertEqual(header(headers, "Allow"), "GET, HEAD")
                    self.assertEqual(header(headers, "Content-Length"), str(len(body)))
                    self.assertIsNotNone(header(headers, "Content-Type"))

    def test_validator_catches_a_broken_app(self) -> None:
        """The harness can fail: a header value that is not a str is refused."""

        def broken(environ: dict, start_response) -> List[bytes]:
            start_response("200 OK", [("Content-Length", 1)])
            return [b"x"]

        environ: Dict[str, object] = {"QUERY_STRING": ""}
        setup_testing_defaults(environ)
        with self.assertRaises(AssertionError):
            validator(broken)(environ, lambda status, headers, exc_info=None: None)


class QuietHandler(WSGIRequestHandler):
    """A request handler that does not log each request to stderr."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Drop the access log line."""


class OverHttpTest(unittest.TestCase):
    """The app served by wsgiref on a real loopback socket, asked by http.client."""

    @classmethod
    def setUpClass(cls) -> None:
        cls.server = make_server("127.0.0.1", 0, app, handler_class=QuietHandler)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()

    @classmethod
    def tearDownClass(cls) -> None:
        cls.server.shutdown()
        cls.thread.join(timeout=10)
        cls.server.server_close()

    def request(self, method: str, target: str) -> http.client.HTTPResponse:
        """Send one request on a fresh connection and read the whole response."""
        conn = http.client.HTTPConnection("127.0.0.1", self.server.server_port, timeout=10)
        self.addCleanup(conn.close)
        conn.request(method, target, body=b"data" if method == "POST" else None)
        response = conn.getresponse()
        response.body = response.read()  # type: ignore[attr-defined]
        return response

    def test_get_head_and_post(self) -> None:
        get = self.request("GET", "/some/path?x=1")
        self.assertEqual(get.status, 200)
        self.assertEqual(get.getheader("Content-Length"), str(len(get.body)))  # type: ignore[attr-defined]
        head = self.request("HEAD", "/other?y=2")
        self.assertEqual((head.status, head.body), (200, b""))  # type: ignore[attr-defined]
        self.assertEqual(head.getheader("Content-Length"), get.getheader("Content-Length"))
        post = self.request("POST", "/")
        self.assertEqual(post.status, 405)
        self.assertEqual(post.getheader("Allow"), "GET, HEAD")


if __name__ == "__main__":
    unittest.main()
