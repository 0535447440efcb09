"""A private network and mount namespace for a test: its own loopback, and its own
/etc/resolv.conf naming a DNS server the test runs on 127.0.0.1:53.

Needs root (CAP_SYS_ADMIN and CAP_NET_ADMIN) and a process with one thread: call
enter() before starting any. Nothing outside the process changes; the namespaces end
with it.
"""

import fcntl
import os
import socket
import struct
import threading
import time
from typing import Optional

from testing.readonly_exec import MS_BIND, MS_PRIVATE, MS_REC, mount

SIOCSIFFLAGS = 0x8914
IFF_UP, IFF_LOOPBACK, IFF_RUNNING = 0x1, 0x8, 0x40


def enter(resolv_conf_dir: str) -> None:
    """Enters new network and mount namespaces: loopback up, and /etc/resolv.conf
    replaced by one naming 127.0.0.1 (written into RESOLV_CONF_DIR)."""
    os.unshare(os.CLONE_NEWNET | os.CLONE_NEWNS)
    mount("none", "/", MS_REC | MS_PRIVATE)
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH14s", b"lo", IFF_UP | IFF_LOOPBACK | IFF_RUNNING, b"")
        fcntl.ioctl(probe, SIOCSIFFLAGS, request)
    conf = os.path.join(resolv_conf_dir, "resolv.conf")
    with open(conf, "w") as handle:
        handle.write("nameserver 127.0.0.1\noptions timeout:5 attempts:1\n")
    mount(conf, os.path.realpath("/etc/resolv.conf"), MS_BIND)


class SlowDns:
    """A DNS server on 127.0.0.1:53 answering every A query with 127.0.0.1 after DELAY
    seconds, each query on a thread of its own (so that answers can overlap)."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.queries = 0
        self._lock = threading.Lock()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 53))
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                query, peer = self._sock.recvfrom(512)
            except OSError:
                return
            with self._lock:
                self.queries += 1
            threading.Thread(target=self._answer, args=(query, peer), daemon=True).start()

    def _answer(self, query: bytes, peer: tuple) -> None:
        time.sleep(self.delay)
        answer = answer_a(query)
        if answer is not None:
            try:
                self._sock.sendto(answer, peer)
            except OSError:
                pass

    def close(self) -> None:
        """Stops answering."""
        self._sock.close()


def answer_a(query: bytes) -> Optional[bytes]:
    """The response to QUERY: for an A question, one A record 127.0.0.1; for any other
    type, no record (NOERROR)."""
    if len(query) < 12:
        return None
    end = 12
    while end < len(query) and query[end]:
        end += 1 + query[end]
    question = query[12:end + 5]
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0] if end + 3 <= len(query) else 0
    records = b""
    count = 0
    if qtype == 1:
        records = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + socket.inet_aton("127.0.0.1")
        count = 1
    header = query[:2] + struct.pack("!HHHHH", 0x8180, 1, count, 0, 0)
    return header + question + records
