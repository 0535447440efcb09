"""gunicorn settings of the gevent contender (bench/workload_contenders.py): psycopg2 made cooperative.

gunicorn's gevent worker monkey-patches the standard library (sockets, threading.local...) before it
imports the app; libpq is C and needs psycogreen's wait callback to yield to other greenlets.
"""

worker_class = "gevent"


def post_fork(server, worker):  # noqa: ARG001  (gunicorn's hook signature)
    """In each worker: psycopg2 waits through gevent instead of blocking the worker."""
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()
