"""gunicorn as the reference parser: what its sync worker answered (the reason in its
error page), the same bytes run through gunicorn's own request parser in this process
(gunicorn.http.RequestParser, which every gunicorn worker uses: the sync worker itself
closes after one response, so the requests after the first are judged this way), and
a small classification of its refusals.

A refusal is about framing (where a message or its body ends: a smuggling verdict) when
gunicorn's reason names Content-Length or Transfer-Encoding, a bare LF, obs-fold, a
transfer coding or a chunk; or when the refused request's head holds a bare CR or LF
(gunicorn then reports only "Invalid HTTP Header: 'NAME'", as for any control byte).
Other refusals (a method, a target, a header name or value, a limit, Host, Expect)
are not about framing.

Two framings are RFC-allowed choices where the kit's spec accepts what gunicorn refuses
(tolerated): Content-Length values that are all the same number (RFC 9112 6.3 (5) lets
a recipient use the single value) and empty elements in the Transfer-Encoding list
(RFC 9110 5.6.1: a recipient MUST ignore them).
"""

import html
import re
from dataclasses import dataclass, field
from typing import List, Optional

from gunicorn.config import Config
from gunicorn.http.body import LengthReader
from gunicorn.http.errors import NoMoreData
from gunicorn.http.parser import RequestParser
from gunicorn.util import unquote_to_wsgi_str

FRAMING_REASON = re.compile(
    r"'(?:CONTENT-LENGTH|TRANSFER-ENCODING)'|bare LF|[Oo]bsolete line folding|[Tt]ransfer coding|[Cc]hunk")
ERROR_PAGE = re.compile(rb"</h1>\s*(.*?)\s*</body>", re.S)
PEER = ("127.0.0.1", 40000)


def page_reason(body: bytes) -> str:
    """The message in one of gunicorn's error pages (util.write_error), unescaped."""
    match = ERROR_PAGE.search(body)
    return html.unescape(match.group(1).decode("latin-1")) if match else ""


def head_of(data: bytes) -> bytes:
    """The bytes of DATA up to the end of its first head (all of it if there is no end)."""
    end = data.find(b"\r\n\r\n")
    return data if end < 0 else data[:end + 2]


def has_bare_cr_or_lf(head: bytes) -> bool:
    """True when HEAD holds a CR or LF that is not part of a CRLF."""
    rest = head.replace(b"\r\n", b"")
    return b"\r" in rest or b"\n" in rest


def is_framing(reason: str, head: bytes) -> bool:
    """True when gunicorn's refusal REASON of the request whose head is HEAD is about framing."""
    return bool(FRAMING_REASON.search(reason)) or has_bare_cr_or_lf(head)


def _field_values(head: bytes, name: bytes) -> List[bytes]:
    """The comma-separated elements of every NAME field line of HEAD (naive: CRLF lines)."""
    values = []
    for line in head.split(b"\r\n")[1:]:
        key, colon, value = line.partition(b":")
        if colon and key.lower() == name:
            values += [element.strip(b" \t") for element in value.split(b",")]
    return values


def tolerated(reason: str, head: bytes) -> Optional[str]:
    """Why gunicorn's framing refusal REASON of HEAD is an RFC-allowed difference, or None."""
    if "'CONTENT-LENGTH'" in reason and not has_bare_cr_or_lf(head):
        values = _field_values(head, b"content-length")
        if len(values) > 1 and all(v.isdigit() for v in values) and len({int(v) for v in values}) == 1:
            return "identical Content-Length values (RFC 9112 6.3 (5))"
    if "ransfer coding" in reason and not has_bare_cr_or_lf(head):
        values = _field_values(head, b"transfer-encoding")
        if [v.lower() for v in values if v] == [b"chunked"] and b"" in values:
            return "empty Transfer-Encoding list elements (RFC 9110 5.6.1)"
    return None


@dataclass
class Request:
    """A request gunicorn's parser accepted: what the echo app would see of it."""

    method: str
    path: str
    body: bytes
    head: bytes


@dataclass
class Parse:
    """gunicorn's parser over a whole byte stream: the requests it accepted, then how it
    ended: "end" (no more bytes, or the connection closes by HTTP's rules), "incomplete"
    (the stream ended inside a request) or "rejected" (with REASON and FRAMING)."""

    requests: List[Request] = field(default_factory=list)
    end: str = "end"
    reason: str = ""
    framing: bool = False
    head: bytes = b""


def parse(data: bytes) -> Parse:
    """Runs gunicorn's RequestParser (default settings) over DATA, as a keep-alive worker would."""
    result = Parse()
    parser = RequestParser(Config(), iter([data]), PEER)
    offset = 0
    while True:
        head = head_of(data[offset:])
        try:
            request = next(parser)
            body = request.body.read()
        except StopIteration:
            return result
        except NoMoreData:
            result.end = "incomplete"
            return result
        except Exception as error:  # gunicorn's parse errors
            result.end, result.reason, result.head = "rejected", str(error), head
            result.framing = is_framing(result.reason, head)
            return result
        if isinstance(request.body.reader, LengthReader):
            length = next((v for n, v in request.headers if n == "CONTENT-LENGTH"), "0")
            if len(body) < int(length):
                result.end = "incomplete"
                return result
        result.requests.append(Request(request.method, unquote_to_wsgi_str(request.path), body, head))
        offset = len(data) - len(parser.unreader.buf.getvalue())

