"""The HTTP/1.1 parser corpus (corpus/*.json): load it, play a case against a
server on 127.0.0.1, and compare what happened with what the case expects.

A case (one item of a group file's JSON list)::

    {"name": "te-lowercase-name", "why": "one line: the rule and where it comes from",
     "smuggling": true,                  # about message framing: the reference must agree
     "reference": "differs: <reason>",   # optional: gunicorn's verdict differs, for that reason
     "send": ["POST / HTTP/1.1\\r\\n...", "..."],    # separate writes; each char is one byte
     "expect": {"requests": [{"REQUEST_METHOD": "POST", "HTTP_X": null, "body": "hello"}],
                "status": 400,           # optional: then this error, and the connection closed
                "close": true}}          # optional: closed after the last response

Each expected request maps environ keys to their exact str value (null: the key
must be absent) and "body" to wsgi.input's bytes as Latin-1 text. The requests the
echo app (echo.py) sees must be exactly those, in order: one more is a failure
(that is how smuggling shows).

Playing a case (run) waits on conditions, each bounded: between two writes, until
the server has read what was sent; then until the expected responses arrived; then,
when the case expects the connection to stay open, a probe request on it must be
answered next (a smuggled request, or bytes the server kept as the start of another
one, show before or instead of the probe's answer); otherwise the server must close.
Once the responses already differ from the case's, the client ends its side of the
stream and collects the rest until the close, instead of waiting out the bounds.
exchange() is the simpler play for the reference and the fuzzer: write, end the
client's side, read until the close.
"""

import json
import os
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import echo
from support import Closed, Reader

CORPUS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
# MAX_BODY of every server the corpus runs against (the 413 cases need one).
MAX_BODY = 1024
PROBE_PATH = "/_echo/probe"
PROBE = b"GET " + PROBE_PATH.encode() + b" HTTP/1.1\r\nHost: probe\r\n\r\n"
# Bounds, in seconds: waiting for the server to read one write, for a response, for the
# close after an error or Connection: close (a right server does each at once), and for
# the close after the client ended its side of the stream (longer: the hang bound).
READ_BOUND = 1.0
ANSWER_BOUND = 2.0
MUST_CLOSE_BOUND = 2.0
CLOSE_BOUND = 5.0


@dataclass(frozen=True)
class Case:
    """One corpus case (see the module's docstring)."""

    group: str
    name: str
    why: str
    send: List[bytes]
    requests: List[Dict[str, Optional[str]]]
    status: Optional[int] = None
    close: bool = False
    smuggling: bool = False
    reference: Optional[str] = None

    @property
    def data(self) -> bytes:
        """Every byte the case sends, in one piece."""
        return b"".join(self.send)

    @property
    def refused(self) -> bool:
        """True when the case ends with an error status."""
        return self.status is not None

    @property
    def must_close(self) -> bool:
        """True when the server must close the connection after the last response."""
        return self.status is not None or self.close


@dataclass
class Response:
    """One response: its status, and the echo app's environ when it has one."""

    status: int
    environ: Optional[Dict[str, str]]
    head: Dict[str, str]
    body: bytes

    def describe(self) -> str:
        """A short text for a difference report."""
        if self.environ is not None:
            return "%d %s %s" % (self.status, self.environ.get("REQUEST_METHOD"), self.environ.get("PATH_INFO"))
        return "%d %r" % (self.status, self.body[:80])


@dataclass
class Outcome:
    """What a server did with a case's bytes."""

    responses: List[Response] = field(default_factory=list)
    closed: bool = False          # the server closed the connection (before any probe)
    probe: Optional[str] = None   # None (no probe sent), "answered", "closed", "unanswered"
    notes: List[str] = field(default_factory=list)

    @property
    def served(self) -> List[Dict[str, str]]:
        """The environs of the leading responses the echo app gave."""
        environs = []
        for response in self.responses:
            if response.status != 200 or response.environ is None:
                break
            environs.append(response.environ)
        return environs

    @property
    def first(self) -> Optional[Response]:
        """The first response, if any."""
        return self.responses[0] if self.responses else None


def _latin1(text: str, where: str) -> bytes:
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        raise ValueError("%s: a character above U+00FF (the corpus is bytes as Latin-1)" % where) from None


def _case(group: str, item: dict) -> Case:
    """Case from the JSON object ITEM of GROUP; ValueError when it is malformed."""
    name = item.get("name")
    where = "%s: %s" % (group, name)
    allowed = {"name", "why", "smuggling", "reference", "send", "expect"}
    if not isinstance(name, str) or not name or set(item) - allowed:
        raise ValueError("%s: a case needs a name and only the keys %s" % (where, sorted(allowed)))
    if not isinstance(item.get("why"), str) or not item["why"].strip():
        raise ValueError("%s: no why" % where)
    send = item.get("send")
    if not isinstance(send, list) or not send or not all(isinstance(s, str) and s for s in send):
        raise ValueError("%s: send must be a list of non-empty strings" % where)
    expect = item.get("expect")
    if not isinstance(expect, dict) or set(expect) - {"requests", "status", "close"}:
        raise ValueError("%s: expect takes requests, status, close" % where)
    requests = expect.get("requests", [])
    for request in requests:
        if not isinstance(request, dict) or not all(
                isinstance(k, str) and (v is None or isinstance(v, str)) for k, v in request.items()):
            raise ValueError("%s: an expected request maps names to a str or null" % where)
    status = expect.get("status")
    if status is not None and not (isinstance(status, int) and 400 <= status <= 599):
        raise ValueError("%s: status must be a 4xx or 5xx" % where)
    if not requests and status is None:
        raise ValueError("%s: expects neither a request nor a status" % where)
    reference = item.get("reference")
    if reference is not None and not (isinstance(reference, str) and reference.startswith("differs: ")):
        raise ValueError("%s: reference must read 'differs: <reason>'" % where)
    return Case(group=group, name=name, why=item["why"], send=[_latin1(s, where) for s in send],
                requests=requests, status=status, close=bool(expect.get("close", False)),
                smuggling=bool(item.get("smuggling", False)), reference=reference)


def load(directory: str = CORPUS_DIR) -> List[Case]:
    """Every case of DIRECTORY's *.json group files, by file name then order; names are unique."""
    cases = []
    for filename in sorted(os.listdir(directory)):
        if not filename.endswith(".json"):
            continue
        with open(os.path.join(directory, filename), encoding="utf-8") as f:
            items = json.load(f)
        if not isinstance(items, list):
            raise ValueError("%s: a group file holds a JSON list" % filename)
        cases.extend(_case(filename[:-len(".json")], item) for item in items)
    names = [case.name for case in cases]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError("duplicate case names: %s" % ", ".join(duplicates))
    return cases


def _server_has_read(port: int, sock: socket.socket) -> bool:
    """True when the server's end of SOCK's connection has no unread bytes, or will read no
    more (it closed: not ESTABLISHED, or gone), from /proc/net/tcp."""
    local = "0100007F:%04X" % port
    remote = "0100007F:%04X" % sock.getsockname()[1]
    with open("/proc/net/tcp") as f:
        for line in f:
            fields = line.split()
            if fields[1] == local and fields[2] == remote:
                return fields[3] != "01" or int(fields[4].split(":")[1], 16) == 0
    return True


def _wait_read(port: int, sock: socket.socket) -> None:
    """Waits (at most READ_BOUND s) until the server has read all SOCK sent (or closed)."""
    deadline = time.monotonic() + READ_BOUND
    while time.monotonic() < deadline and not _server_has_read(port, sock):
        time.sleep(0.001)


def _send(port: int, sock: socket.socket, pieces: Sequence[bytes], outcome: Outcome) -> bool:
    """Writes PIECES one by one, letting the server read each; False if the server closed first."""
    for i, piece in enumerate(pieces):
        if i:
            _wait_read(port, sock)
        try:
            sock.sendall(piece)
        except OSError as error:
            outcome.notes.append("write %d of %d failed: %s" % (i + 1, len(pieces), error))
            return False
    return True


def _response(reader: Reader, deadline: float) -> Optional[Response]:
    """The next final (non-1xx) response, None when none came by DEADLINE.
    Raises Closed when the server closed (or reset) the connection first."""
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        reader.sock.settimeout(remaining)
        try:
            status, head, body = reader.response()
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError) as error:
            raise Closed(str(error)) from None
        except AssertionError as error:  # not an HTTP response
            raise Closed("garbage from the server: %s" % error) from None
        if 100 <= status < 200:
            continue
        environ = None
        if status == 200 and head.get("content-type") == "application/json":
            try:
                environ = json.loads(body)
            except ValueError:
                environ = None
        return Response(status, environ, head, body)


def _collect(reader: Reader, outcome: Outcome, count: Optional[int], bound: float) -> bool:
    """Reads responses into OUTCOME until it holds COUNT (None: until the close) or BOUND s
    pass; True when the server closed the connection meanwhile."""
    deadline = time.monotonic() + bound
    while count is None or len(outcome.responses) < count:
        try:
            response = _response(reader, deadline)
        except Closed as closed:
            if reader.buf:
                outcome.notes.append("closed in the middle of a response (%s)" % closed)
            return True
        if response is None:
            return False
        outcome.responses.append(response)
    return False


def connect(port: int) -> socket.socket:
    """A connection to 127.0.0.1:PORT that writes each piece at once and leaves no
    TIME_WAIT behind when closed (an RST then), so /proc/net/tcp stays short (_wait_read)."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=CLOSE_BOUND)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return sock


def run(port: int, case: Case) -> Outcome:
    """Plays CASE on a new connection to 127.0.0.1:PORT (a keep-alive server), with a
    probe when the case expects the connection to stay open."""
    outcome = Outcome()
    with connect(port) as sock:
        reader = Reader(sock)
        _send(port, sock, case.send, outcome)
        expected = len(case.requests) + (1 if case.refused else 0)
        outcome.closed = _collect(reader, outcome, expected, ANSWER_BOUND)
        if outcome.closed:
            return outcome
        if not _on_track(case, outcome):
            # already different: end the stream to collect the rest without waiting
            outcome.notes.append("the client ended its side once the outcome differed")
            _end(reader, outcome)
            return outcome
        if case.must_close:
            outcome.closed = _collect(reader, outcome, None, MUST_CLOSE_BOUND)
            if not outcome.closed:
                outcome.notes.append("still open %.0f s after the last response" % MUST_CLOSE_BOUND)
                _end(reader, outcome)
            return outcome
        try:
            sock.sendall(PROBE)
        except OSError:
            outcome.probe = "closed"
            outcome.closed = True
            return outcome
        outcome.probe = _await_probe(reader, outcome)
        outcome.closed = outcome.probe == "closed"
        if not outcome.closed:
            _end(reader, outcome)
    return outcome


def _on_track(case: Case, outcome: Outcome) -> bool:
    """False when the statuses received so far already differ from CASE's."""
    statuses = [200] * len(case.requests) + ([case.status] if case.refused else [])
    return len(outcome.responses) <= len(statuses) and all(
        response.status == status for response, status in zip(outcome.responses, statuses))


def _end(reader: Reader, outcome: Outcome) -> None:
    """Ends the client's side of the stream and collects the responses until the close."""
    try:
        reader.sock.shutdown(socket.SHUT_WR)
    except OSError:
        pass
    if not _collect(reader, outcome, None, CLOSE_BOUND):
        outcome.notes.append("not closed %.0f s after the client's end of stream" % CLOSE_BOUND)


def _is_probe(response: Response) -> bool:
    return response.environ is not None and response.environ.get("PATH_INFO") == PROBE_PATH


def _await_probe(reader: Reader, outcome: Outcome, most: int = 20) -> str:
    """Reads responses until the probe's: "answered" (its response is not kept), "closed"
    or "unanswered" (nothing more within ANSWER_BOUND s, or MOST other responses)."""
    for _ in range(most):
        before = len(outcome.responses)
        if _collect(reader, outcome, before + 1, ANSWER_BOUND):
            return "closed"
        if len(outcome.responses) == before:
            return "unanswered"
        if _is_probe(outcome.responses[-1]):
            outcome.responses.pop()
            return "answered"
    return "unanswered"


def exchange(port: int, pieces: Sequence[bytes]) -> Outcome:
    """Writes PIECES on a new connection to 127.0.0.1:PORT, then ends the client's side
    (shutdown SHUT_WR) and reads every response until the server closes (at most
    CLOSE_BOUND s after the last write): for servers that close after one response, and
    for the fuzzer. ``closed`` False means the server did not close in time (a hang)."""
    outcome = Outcome()
    with connect(port) as sock:
        reader = Reader(sock)
        if _send(port, sock, pieces, outcome):
            try:
                sock.shutdown(socket.SHUT_WR)
            except OSError:
                pass
        outcome.closed = _collect(reader, outcome, None, CLOSE_BOUND)
    return outcome


def compare_request(index: int, expected: Dict[str, Optional[str]], environ: Dict[str, str]) -> List[str]:
    """Differences between EXPECTED (a case's request INDEX) and ENVIRON, the echo app's."""
    differences = []
    for key, value in expected.items():
        if value is None:
            if key in environ:
                differences.append("request %d: %s should be absent, is %r" % (index + 1, key, environ[key]))
        elif key not in environ:
            differences.append("request %d: no %s (expected %r)" % (index + 1, key, value))
        elif environ[key] != value:
            differences.append("request %d: %s is %r, expected %r" % (
                index + 1, key, _short(environ[key]), _short(value)))
    return differences


def _short(text: str) -> str:
    return text if len(text) <= 120 else text[:100] + "...(%d chars)" % len(text)


def compare(case: Case, outcome: Outcome) -> Optional[str]:
    """None when OUTCOME is what CASE expects, else the differences, one per line."""
    differences = []
    responses = outcome.responses
    for i, expected in enumerate(case.requests):
        if i >= len(responses):
            differences.append("request %d (%s %s) got no response" % (
                i + 1, expected.get("REQUEST_METHOD", "?"), expected.get("PATH_INFO", "?")))
            break
        if responses[i].environ is None:
            differences.append("request %d: answered %s, expected the app's 200" % (i + 1, responses[i].describe()))
            break
        differences += compare_request(i, expected, responses[i].environ)
    else:
        n = len(case.requests)
        if case.refused:
            if n >= len(responses):
                differences.append("no %d after the %d request(s)" % (case.status, n))
            elif responses[n].status != case.status:
                differences.append("answered %s, expected %d" % (responses[n].describe(), case.status))
            elif responses[n].head.get("connection", "").lower() != "close":
                differences.append("the %d says Connection: %r, not close" % (
                    case.status, responses[n].head.get("connection")))
            extra = responses[n + 1:]
        else:
            extra = responses[n:]
        for response in extra:
            if response.environ is not None:
                differences.append("an extra request reached the app: %s" % response.describe())
            else:
                differences.append("an extra response: %s" % response.describe())
        if case.must_close and not outcome.closed:
            differences.append("the connection was not closed")
        if not case.must_close:
            if outcome.probe == "closed" or (outcome.closed and outcome.probe is None):
                differences.append("the connection was closed (expected it to stay open)")
            elif outcome.probe == "unanswered":
                differences.append("the connection stayed open but a request on it got no answer")
    if not differences:
        return None
    return "\n".join(differences + ["(%s)" % note for note in outcome.notes])


def verdict(outcome: Outcome) -> str:
    """'accepted' when the first response is the app's, else 'rejected' (an error status,
    or closed without an answer), or 'no answer' when the server neither answered nor closed."""
    first = outcome.first
    if first is not None and first.environ is not None:
        return "accepted"
    if first is not None or outcome.closed:
        return "rejected"
    return "no answer"


def describe_verdict(outcome: Outcome) -> str:
    """The verdict with its status, for reports."""
    first = outcome.first
    if first is None:
        return "closed without an answer" if outcome.closed else "no answer"
    return first.describe()


def mark_request(text: str) -> bytes:
    """A request that makes the echo app log "echo-mark TEXT" (see echo.py)."""
    return ("GET %s?%s HTTP/1.1\r\nHost: mark\r\nConnection: close\r\n\r\n" % (echo.MARK_PATH, text)).encode()
