"""``app``: counts the visits of each path in PostgreSQL and answers with JSON
(``?wait=SECONDS``: the transaction also waits that long in the database, like a
slow query).

The database is named by the DATABASE_URL environment variable (a libpq connection
string such as postgresql://user@127.0.0.1:5432/dbname). psycopg2 is built from its
source archive against Debian's libpq (see requirements_debian.txt).
"""

import json
import os
import urllib.parse
from typing import Callable, Iterable, Tuple

import psycopg2

SCHEMA = "CREATE TABLE IF NOT EXISTS visits (path text PRIMARY KEY, count integer NOT NULL)"
COUNT = ("INSERT INTO visits VALUES (%s, 1) ON CONFLICT (path) "
         "DO UPDATE SET count = visits.count + 1 RETURNING count")


def visit(path: str, wait: float = 0.0) -> Tuple[int, str]:
    """Counts one visit of PATH (after WAIT seconds in the database); returns the count
    and the server's version."""
    connection = psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)
    try:
        with connection, connection.cursor() as cursor:  # one transaction
            cursor.execute(SCHEMA)
            if wait:
                cursor.execute("SELECT pg_sleep(%s)", (wait,))
            cursor.execute(COUNT, (path,))
            count = cursor.fetchone()[0]
            cursor.execute("SELECT current_setting('server_version')")
            return count, cursor.fetchone()[0]
    finally:
        connection.close()


def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
    """GET any path: 200 with its visit count, or 503 if the database cannot be reached."""
    path = environ.get("PATH_INFO") or "/"
    query = urllib.parse.parse_qs(environ.get("QUERY_STRING", ""))
    try:
        count, version = visit(path, float(query.get("wait", ["0"])[0]))
        status, document = "200 OK", {"path": path, "visits": count, "postgresql": version}
    except (KeyError, psycopg2.Error) as error:
        status, document = "503 Service Unavailable", {"error": "database unavailable: %s" % error}
    body = json.dumps(document, sort_keys=True).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]
