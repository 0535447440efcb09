"""``app``: GET and HEAD of any target answer 200 with a fixed text, other methods 405.

The server's tests need an app whose answers they know, whatever the user's app does.
"""

from typing import Callable, Iterable

TEXT = b"Hello, world!\n"


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """The WSGI callable."""
    method = environ["REQUEST_METHOD"]
    if method not in ("GET", "HEAD"):
        start_response("405 Method Not Allowed", [("Allow", "GET, HEAD"), ("Content-Length", "0")])
        return []
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(TEXT)))])
    return [TEXT] if method == "GET" else []
