"""Calls that may wait pass meinheld's loop on first, so that a worker with threads
keeps serving while a request waits.

With ``THREADS`` > 1 the kit's meinheld runs its loop on whichever thread is free
(runtime/meinheld/src/pool.h): the thread that reads a request also calls the app
for it. When that request is about to wait, ``server.will_block()`` hands the loop
to an idle thread at once; the request then waits and finishes on its own thread.
These hooks call it before the waits a WSGI app usually makes:

* socket I/O of pure-Python clients (``http.client``, requests/urllib3, redis-py,
  PyMySQL, pg8000...): only when the socket is not ready, so reading what already
  arrived costs a ``poll()``, not a hand-over; TLS sockets too;
* name resolution (``socket.getaddrinfo`` and its siblings), ``time.sleep``,
  ``select.select``;
* psycopg2: its queries go through libpq's asynchronous interface with a wait
  callback (as psycogreen does for gevent), which hands the loop on before waiting
  for the server.

Anything else that waits (a C extension that releases the GIL, a lock, a long
computation) is noticed by the pool's monitor within a millisecond or two and the
loop passes on then. A call never changes: it blocks on its own thread as it would
without the kit; only the loop moves. Names bound before the hooks were installed
(``from time import sleep`` at import time) keep the original function and are left
to the monitor.
"""

import functools
import select
import socket
import ssl
import sys
import time
from typing import Any, Callable, Iterable

WillBlock = Callable[..., None]

# socket.socket methods that wait for the socket to be readable / writable; connect
# and accept wait for the peer.
_READING = ("recv", "recv_into", "recvfrom", "recvfrom_into", "recvmsg", "recvmsg_into")
_WRITING = ("send", "sendall", "sendto", "sendmsg")
_TLS_READING = ("recv", "recv_into", "recvfrom", "recvfrom_into", "read")
_TLS_WRITING = ("send", "sendall", "sendto", "write", "do_handshake", "unwrap")
_RESOLVING = ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getnameinfo")

_installed = False


def _on_socket(method: Callable, will_block: WillBlock, wait: str) -> Callable:
    """METHOD of a socket class, on a blocking socket calling will_block first: with
    the socket's fileno when WAIT is "read" or "write" (nothing happens if it is ready
    for that), alone when it is "peer" (connect: the peer answers when it does)."""
    write = wait == "write"

    @functools.wraps(method)
    def waiting(self: socket.socket, *args: Any, **kwargs: Any) -> Any:
        if self.timeout != 0.0:
            if wait == "peer":
                will_block()
            else:
                will_block(self.fileno(), write)
        return method(self, *args, **kwargs)

    return waiting


def _always(function: Callable, will_block: WillBlock) -> Callable:
    """FUNCTION, calling will_block() first."""

    @functools.wraps(function)
    def waiting(*args: Any, **kwargs: Any) -> Any:
        will_block()
        return function(*args, **kwargs)

    return waiting


def _patch_methods(cls: type, names: Iterable[str], will_block: WillBlock, wait: str) -> None:
    for name in names:
        method = getattr(cls, name, None)
        if method is not None:
            setattr(cls, name, _on_socket(method, will_block, wait))


def _sleep(original: Callable, will_block: WillBlock) -> Callable:
    @functools.wraps(original)
    def sleep(seconds: float) -> None:
        if seconds > 0:
            will_block()
        original(seconds)

    return sleep


def _select(original: Callable, will_block: WillBlock) -> Callable:
    @functools.wraps(original)
    def select_(rlist: Any, wlist: Any, xlist: Any, timeout: Any = None) -> Any:
        if timeout is None or timeout > 0:
            will_block()
        return original(rlist, wlist, xlist, timeout)

    return select_


def _psycopg2_wait(will_block: WillBlock, wait_select: Callable) -> Callable:
    """A psycopg2 wait callback: polls the connection, handing the loop on before it waits."""
    import psycopg2.extensions as extensions  # pylint: disable=import-outside-toplevel

    def wait(connection: Any) -> None:
        while True:
            state = connection.poll()
            if state == extensions.POLL_OK:
                return
            if state == extensions.POLL_READ:
                fd = connection.fileno()
                will_block(fd, False)
                wait_select([fd], [], [])
            elif state == extensions.POLL_WRITE:
                fd = connection.fileno()
                will_block(fd, True)
                wait_select([], [fd], [])
            else:
                raise connection.OperationalError("unexpected state from poll(): %r" % state)

    return wait


def install(will_block: WillBlock) -> None:
    """Installs the hooks in this process (once), calling WILL_BLOCK (meinheld's
    ``server.will_block``) before each wait."""
    global _installed
    if _installed:
        return
    _installed = True
    _patch_methods(socket.socket, _READING + ("accept",), will_block, "read")
    _patch_methods(socket.socket, _WRITING, will_block, "write")
    _patch_methods(socket.socket, ("connect", "connect_ex"), will_block, "peer")
    _patch_methods(ssl.SSLSocket, _TLS_READING, will_block, "read")
    _patch_methods(ssl.SSLSocket, _TLS_WRITING, will_block, "write")
    for name in _RESOLVING:
        setattr(socket, name, _always(getattr(socket, name), will_block))
    original_select = select.select
    time.sleep = _sleep(time.sleep, will_block)
    select.select = _select(original_select, will_block)
    if "psycopg2" in sys.modules:
        import psycopg2.extensions  # pylint: disable=import-outside-toplevel

        psycopg2.extensions.set_wait_callback(_psycopg2_wait(will_block, original_select))
