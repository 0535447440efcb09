"""A stop signal that reaches a worker before it has its own handlers stops it.

gunicorn's master handles SIGTERM, SIGINT and SIGQUIT by queueing them for its loop. A
forked worker keeps those handlers until its ``init_signals()``: a stop signal the
master forwards in between (a rolling update while a worker is being replaced) lands in
the worker's copy of the queue, which nothing reads, and the worker boots and serves
until GRACEFUL_TIMEOUT ends it with SIGKILL. So around every fork the master blocks
those signals; the child gives them their default action (it has served nothing yet:
ending it is the right answer) before unblocking them, and the parent unblocks them.
"""

import os
import signal

STOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGQUIT})


def _block() -> None:
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)


def _unblock() -> None:
    signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)


def _in_child() -> None:
    for number in STOP_SIGNALS:
        signal.signal(number, signal.SIG_DFL)
    _unblock()


def install() -> None:
    """Guard every later os.fork() of this process (call it once, in the master)."""
    os.register_at_fork(before=_block, after_in_parent=_unblock, after_in_child=_in_child)
