"""``app``: the request shapes of TechEmpower's framework benchmarks, and a call to an upstream.

| path | what one request does |
| --- | --- |
| ``/plaintext`` (and ``/``) | ``Hello, World!`` as text/plain |
| ``/json`` | ``{"message": "Hello, World!"}``, serialised for each request |
| ``/db`` | one random row of ``world`` (ids 1 to 10,000), as a JSON object |
| ``/queries?queries=N`` | N random rows, one query each (N clamped to 1..500, 1 if not a number) |
| ``/fortunes`` | every row of ``fortune`` plus one added at request time, sorted by message, rendered
  through an HTML template with every message escaped |
| ``/upstream?ms=N`` | one HTTP GET (``http.client``) to the upstream, which answers after N ms |

Environment: ``DATABASE_URL`` (a libpq connection string), ``UPSTREAM_URL``
(``http://HOST:PORT`` of the upstream). Each thread keeps one database connection (autocommit:
a read is one round trip) and one keep-alive upstream connection in a ``threading.local``: one
per thread on gthread, granian's blocking threads or a server's own pool, one per greenlet on
gevent (monkey-patched, with psycogreen for psycopg2). A failing database answers 500, a
failing upstream 502: the load generator counts both.
"""

import html
import http.client
import json
import os
import random
import threading
import urllib.parse
from string import Template
from typing import Callable, Dict, Iterable, List, Optional, Tuple

import psycopg2

StartResponse = Callable[..., Callable[[bytes], object]]
Answer = Tuple[str, str, bytes]  # status, content type, body

WORLD_ROWS = 10000
MAX_QUERIES = 500
MAX_DELAY_MS = 10000
HELLO = "Hello, World!"
TEXT, JSON, HTML = "text/plain; charset=utf-8", "application/json", "text/html; charset=utf-8"
ADDED_FORTUNE = "Additional fortune added at request time."
PAGE = Template(
    "<!DOCTYPE html><html><head><title>Fortunes</title></head><body><table>"
    "<tr><th>id</th><th>message</th></tr>$rows</table></body></html>"
)
ROW = Template("<tr><td>$id</td><td>$message</td></tr>")

_local = threading.local()


class BadRequest(Exception):
    """A query parameter that cannot be served; the message is the answer's body."""


def database():
    """This thread's database connection, made on first use."""
    connection = getattr(_local, "db", None)
    if connection is None or connection.closed:
        connection = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)
        connection.autocommit = True
        _local.db = connection
    return connection


def forget_database() -> None:
    """Closes and drops this thread's connection (after an error it may be unusable)."""
    connection = getattr(_local, "db", None)
    _local.db = None
    if connection is not None:
        try:
            connection.close()
        except psycopg2.Error:
            pass


def random_worlds(count: int) -> List[Dict[str, int]]:
    """COUNT random rows of world, one query each."""
    rows = []
    with database().cursor() as cursor:
        for _ in range(count):
            cursor.execute("SELECT id, randomnumber FROM world WHERE id = %s", (random.randint(1, WORLD_ROWS),))
            row = cursor.fetchone()
            rows.append({"id": row[0], "randomNumber": row[1]})
    return rows


def queries_param(query: Dict[str, List[str]]) -> int:
    """TechEmpower's rule: ?queries=N clamped to 1..500; missing or not a number is 1."""
    try:
        return min(max(int(query.get("queries", ["1"])[0]), 1), MAX_QUERIES)
    except ValueError:
        return 1


def fortunes_page() -> bytes:
    """The fortunes, one more added, sorted by message, in the HTML template."""
    with database().cursor() as cursor:
        cursor.execute("SELECT id, message FROM fortune")
        fortunes = list(cursor.fetchall())
    fortunes.append((0, ADDED_FORTUNE))
    fortunes.sort(key=lambda fortune: fortune[1])
    rows = "".join(ROW.substitute(id=ident, message=html.escape(message)) for ident, message in fortunes)
    return PAGE.substitute(rows=rows).encode()


def upstream_address() -> Tuple[str, int]:
    """HOST and PORT of UPSTREAM_URL."""
    url = urllib.parse.urlsplit(os.environ["UPSTREAM_URL"])
    return url.hostname or "127.0.0.1", url.port or 80


def upstream_get(delay_ms: int) -> bytes:
    """GET /?ms=DELAY_MS on this thread's keep-alive connection; on failure it is closed and dropped."""
    connection: Optional[http.client.HTTPConnection] = getattr(_local, "upstream", None)
    if connection is None:
        connection = http.client.HTTPConnection(*upstream_address(), timeout=10)
        _local.upstream = connection
    try:
        connection.request("GET", "/?ms=%d" % delay_ms)
        response = connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise http.client.HTTPException("upstream answered %d" % response.status)
        return body
    except (http.client.HTTPException, OSError):
        connection.close()
        _local.upstream = None
        raise


def call_upstream(delay_ms: int) -> bytes:
    """The upstream's answer after DELAY_MS; a keep-alive connection it closed is redone once."""
    try:
        return upstream_get(delay_ms)
    except (http.client.HTTPException, OSError):
        return upstream_get(delay_ms)


def delay_param(query: Dict[str, List[str]]) -> int:
    """?ms=N, 0 to 10,000."""
    try:
        delay = int(query.get("ms", ["0"])[0])
    except ValueError:
        raise BadRequest("ms must be an integer") from None
    if not 0 <= delay <= MAX_DELAY_MS:
        raise BadRequest("ms must be between 0 and %d" % MAX_DELAY_MS)
    return delay


def answer(path: str, query: Dict[str, List[str]]) -> Answer:
    """The status, content type and body for PATH."""
    if path in ("/plaintext", "/"):
        return "200 OK", TEXT, HELLO.encode()
    if path == "/json":
        return "200 OK", JSON, json.dumps({"message": HELLO}).encode()
    if path == "/db":
        return "200 OK", JSON, json.dumps(random_worlds(1)[0]).encode()
    if path == "/queries":
        return "200 OK", JSON, json.dumps(random_worlds(queries_param(query))).encode()
    if path == "/fortunes":
        return "200 OK", HTML, fortunes_page()
    if path == "/upstream":
        return "200 OK", TEXT, call_upstream(delay_param(query))
    return "404 Not Found", TEXT, b"Not Found\n"


def app(environ: dict, start_response: StartResponse) -> Iterable[bytes]:
    """The WSGI callable: GET only (HEAD as GET without the body)."""
    method = environ.get("REQUEST_METHOD", "GET")
    if method not in ("GET", "HEAD"):
        status, ctype, body = "405 Method Not Allowed", TEXT, b"Method Not Allowed\n"
    else:
        try:
            query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
            status, ctype, body = answer(environ.get("PATH_INFO") or "/", query)
        except BadRequest as error:
            status, ctype, body = "400 Bad Request", TEXT, str(error).encode()
        except KeyError as error:
            status, ctype, body = "500 Internal Server Error", TEXT, ("not set: %s" % error).encode()
        except psycopg2.Error as error:
            forget_database()
            status, ctype, body = "500 Internal Server Error", TEXT, ("database: %s" % error).encode()
        except (http.client.HTTPException, OSError) as error:
            status, ctype, body = "502 Bad Gateway", TEXT, ("upstream: %s" % error).encode()
    start_response(status, [("Content-Type", ctype), ("Content-Length", str(len(body)))])
    return [b""] if method == "HEAD" else [body]
