"""The WSGI app of the tests, and a direct meinheld runner:

    python serve.py PORT '{"keepalive": 5, "graceful": 10, "threads": 4, ...}'

listens on 127.0.0.1:PORT, applies the options and calls server.run(app).
SIGTERM calls server.stop(graceful). Options whose setter the meinheld in use
lacks (an unpatched 1.0.2) are ignored, so the same tests show its behaviour.
With "app": "echo" it serves echo.app (the corpus's app) instead of the routes
below, and sets an error logger whose info(message) (called by meinheld, when the
logger has one, once per rejected request) writes the line
"meinheld-info: <message as JSON>" to stderr.
Prints "STOPPED" when run() returns; exits 0 then.

Routes: /            hello world
        /seq?N       body N (pipelining order)
        /echo        reads wsgi.input; body "<length> <sha256>"
        /sleep?S     blocks S seconds in the app (prints IN_APP first)
        /big?MB      one MB-MiB body as a single item
        /pid         the process id
        /remote      REMOTE_ADDR REMOTE_PORT
        /dated       sets its own Server and Date headers
        /stream?N    N items of 4 MiB from a generator
        /computed?N  N items of 1 MiB from a generator that computes each for 30 ms
        /latin1      a Latin-1 status and header value
        /inject      a header value with CR LF (must give 500)
        /nap         server.sleep(1) (cooperative), then answers
        /boom        raises RuntimeError
        /hang        blocks 60 s
"""

import hashlib
import json
import os
import signal
import sys
import time
import traceback

BODY = b"Hello, world!\n"


def app(environ, start_response):
    path = environ["PATH_INFO"]
    query = environ.get("QUERY_STRING", "")
    if path == "/":
        body = BODY
    elif path == "/seq":
        body = query.encode()
    elif path == "/echo":
        data = environ["wsgi.input"].read()
        body = ("%d %s" % (len(data), hashlib.sha256(data).hexdigest())).encode()
    elif path == "/sleep":
        print("IN_APP", flush=True)
        time.sleep(float(query or "1"))
        body = b"slept\n"
    elif path == "/big":
        body = b"x" * (int(query or "32") << 20)
    elif path == "/pid":
        body = str(os.getpid()).encode()
    elif path == "/remote":
        body = ("%s %s" % (environ["REMOTE_ADDR"], environ["REMOTE_PORT"])).encode()
    elif path == "/dated":
        # Server and Date are meinheld's own: it drops the app's
        start_response("200 OK", [("Server", "app"), ("Date", "Thu, 01 Jan 1970 00:00:00 GMT"),
                                  ("Content-Length", "5")])
        return [b"dated"]
    elif path == "/stream":
        # a generator: each item is a new 4 MiB bytes object
        n = int(query or "1")
        start_response("200 OK", [("Content-Length", str(n << 22))])
        return (bytes([65 + i % 26]) * (1 << 22) for i in range(n))
    elif path == "/computed":
        n = int(query or "1")
        start_response("200 OK", [("Content-Length", str(n << 20))])
        return computed(n)
    elif path == "/latin1":
        start_response("200 \u00c7a va", [("X-Latin", "caf\u00e9"), ("Content-Length", "2")])
        return [b"ok"]
    elif path == "/inject":
        start_response("200 OK", [("X-Evil", "a\r\nSet-Cookie: x=1"), ("Content-Length", "2")])
        return [b"no"]
    elif path == "/nap":
        # a cooperative sleep: the request is resumed by meinheld's timer
        from meinheld import server
        server.sleep(1)
        body = b"napped"
    elif path == "/boom":
        raise RuntimeError("boom")
    elif path == "/hang":
        time.sleep(60)
        body = b"woke\n"
    else:
        start_response("404 Not Found", [("Content-Length", "0")])
        return [b""]
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def computed(n):
    """N items of 1 MiB, each after 30 ms of Python on the CPU (holding the GIL but
    for the interpreter's switch interval): the loop passes to another thread meanwhile."""
    for i in range(n):
        end = time.monotonic() + 0.03
        while time.monotonic() < end:
            pass
        yield bytes([65 + i % 26]) * (1 << 20)


INFO_PREFIX = "meinheld-info: "


class EchoErrorLog:
    """The error logger of the "echo" option: tracebacks and rejection lines to stderr."""

    def error(self, exc_type, value, tb):
        traceback.print_exception(exc_type, value, tb)
        sys.stderr.flush()

    def info(self, message):
        if isinstance(message, bytes):
            message = message.decode("latin-1")
        sys.stderr.write(INFO_PREFIX + json.dumps(message) + "\n")
        sys.stderr.flush()


def main():
    from meinheld import server

    port = int(sys.argv[1])
    options = json.loads(sys.argv[2]) if len(sys.argv) > 2 else {}
    server.listen(("127.0.0.1", port))
    server.set_access_logger(None)
    wsgi_app = app
    if options.get("app") == "echo":
        import echo
        wsgi_app = echo.app
        server.set_error_logger(EchoErrorLog())
    setters = {
        "keepalive": "set_keepalive",
        "max_content_length": "set_max_content_length",
        "client_body_buffer_size": "set_client_body_buffer_size",
        "read_timeout": "set_read_timeout",
        "header_timeout": "set_header_timeout",
        "body_timeout": "set_body_timeout",
        "threads": "set_threads",
    }
    for key, name in setters.items():
        if key in options and hasattr(server, name):
            getattr(server, name)(options[key])
    graceful = options.get("graceful", 10)
    signal.signal(signal.SIGTERM, lambda sig, frame: server.stop(graceful))
    print("LISTENING", flush=True)
    server.run(wsgi_app)
    print("STOPPED", flush=True)


if __name__ == "__main__":
    main()
