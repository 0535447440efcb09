"""A WSGI app whose requests wait, each route in one of the ways apps wait (waits_test)."""

import contextvars
import ctypes
import http.client
import json
import os
import socket
import threading
import time
from typing import Callable, Iterable

WAIT = 0.2  # seconds each request waits
_local = threading.local()
_request_id: contextvars.ContextVar = contextvars.ContextVar("request_id")
_libc = ctypes.CDLL(None)


def _upstream(port: int, path: str) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path)
        return connection.getresponse().read()
    finally:
        connection.close()


def _per_request(request_id: str, environ: dict) -> bytes:
    """Stores REQUEST_ID in a thread-local, a context variable and the environ, waits,
    and answers what each holds then."""
    _local.request_id = request_id
    _request_id.set(request_id)
    environ["waits.request_id"] = request_id
    time.sleep(WAIT)
    return json.dumps({"local": _local.request_id, "context": _request_id.get(),
                       "environ": environ["waits.request_id"], "thread": threading.get_ident()}).encode()


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """/upstream?PORT[/PATH] (GET /PATH there), /sleep, /lookup?NAME, /cwait (a C
    call without the GIL), /state?ID (per-request state kept across a wait), /pid."""
    path, query = environ["PATH_INFO"], environ.get("QUERY_STRING", "")
    if path == "/upstream":
        port, _, upstream_path = query.partition("/")
        body = _upstream(int(port), "/" + upstream_path)
    elif path == "/sleep":
        time.sleep(WAIT)
        body = b"slept"
    elif path == "/lookup":
        body = socket.getaddrinfo(query, 80, socket.AF_INET, socket.SOCK_STREAM)[0][4][0].encode()
    elif path == "/cwait":
        _libc.usleep(int(WAIT * 1e6))  # ctypes releases the GIL around foreign calls
        body = b"waited"
    elif path == "/state":
        body = _per_request(query, environ)
    elif path == "/pid":
        body = str(os.getpid()).encode()
    else:
        body = b"ok"
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
