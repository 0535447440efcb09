"""The corpus's WSGI app: it answers every request with 200 and a JSON object of
every environ item whose value is a str, plus "body": the whole of wsgi.input,
decoded as Latin-1 (so each byte is one character, as in the corpus files).

A request for MARK_PATH?TEXT also writes the line "echo-mark TEXT" to wsgi.errors
(the server's stderr): the tests use it to cut the server's log into one window
per corpus case, in the order the server wrote it.

Served by serve.py with the option "app": "echo", and by gunicorn as echo:app.
"""

import json
from typing import Callable, Iterable

MARK_PATH = "/_echo/mark"
MARK_PREFIX = "echo-mark "


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """Answers 200 with the JSON of ENVIRON's str items and the body."""
    body = environ["wsgi.input"].read()
    items = {key: value for key, value in environ.items() if isinstance(value, str)}
    items["body"] = body.decode("latin-1")
    if environ.get("PATH_INFO") == MARK_PATH:
        errors = environ["wsgi.errors"]
        errors.write(MARK_PREFIX + environ.get("QUERY_STRING", "") + "\n")
        errors.flush()
    data = json.dumps(items, sort_keys=True).encode("ascii")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]
