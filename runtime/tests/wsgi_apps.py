"""WSGI apps the tests serve: routes chosen by PATH_INFO."""

import hashlib
from typing import Callable, Iterable

BIG_SIZE = 32 * 1024 * 1024


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """``/big``: 32 MB; ``/echo``: length and sha256 of the body; else ``ok``."""
    path = environ.get("PATH_INFO", "/")
    if path == "/big":
        body = b"x" * BIG_SIZE
    elif path == "/echo":
        data = environ["wsgi.input"].read()
        body = f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode()
    else:
        body = b"ok"
    start_response(
        "200 OK",
        [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
    )
    return [body]
