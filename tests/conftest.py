"""Fixtures for the app's tests: call the WSGI app directly, or over a real socket."""

import io
import sys
import threading
import warnings
from typing import Callable, Dict, Iterator, List, NamedTuple, Tuple
from wsgiref.simple_server import WSGIRequestHandler, make_server
from wsgiref.util import setup_testing_defaults
from wsgiref.validate import validator

import pytest

from app.main import app


class Response(NamedTuple):
    """What the app answered."""

    status: str
    headers: List[Tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str:
        """The value of header NAME (case-insensitive), or "" if absent."""
        return next((v for k, v in self.headers if k.lower() == name.lower()), "")


@pytest.fixture
def call() -> Callable[..., Response]:
    """call(method, path="/", query="", body=b"") runs the app through wsgiref.validate,
    which fails the test on any breach of the WSGI specification (PEP 3333)."""

    def run(method: str, path: str = "/", query: str = "", body: bytes = b"") -> Response:
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

        def start_response(status: str, headers: list, exc_info: object = None) -> Callable:
            seen["status"], seen["headers"] = status, headers
            return lambda data: None

        with warnings.catch_warnings():
            warnings.simplefilter("error")  # the validator reports some faults as warnings
            result = validator(app)(environ, start_response)
            try:
                data = b"".join(result)
            finally:
                result.close()
        return Response(str(seen["status"]), list(seen["headers"]), data)  # type: ignore[arg-type]

    return run


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """No access log on stderr."""


@pytest.fixture(scope="module")
def server_port() -> Iterator[int]:
    """The app served by wsgiref on a free port of 127.0.0.1 for the module's tests."""
    server = make_server("127.0.0.1", 0, app, handler_class=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
