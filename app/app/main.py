"""WSGI entry point: ``app`` answers GET and HEAD with a short text body."""

from typing import Callable, Iterable, List, Tuple

StartResponse = Callable[..., Callable[[bytes], object]]

BODY = b"Hello, world!\n"
ALLOWED = "GET, HEAD"


def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    """Answer GET/HEAD with 200 and a text body, any other method with 405."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method in ("GET", "HEAD"):
        status, body = "200 OK", BODY
        headers: List[Tuple[str, str]] = []
    else:
        status, body = "405 Method Not Allowed", b"Method Not Allowed\n"
        headers = [("Allow", ALLOWED)]
    headers += [
        ("Content-Type", "text/plain; charset=utf-8"),
        ("Content-Length", str(len(body))),
    ]
    start_response(status, headers)
    return [b""] if method == "HEAD" else [body]
