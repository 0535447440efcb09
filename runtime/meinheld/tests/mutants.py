"""Mutations of corpus requests for the fuzz test: each operator takes a random.Random
and the request bytes and returns new bytes (the input itself when it does not apply).
mutant() applies one to three of them and splits the result into one to four writes.
"""

import random
import re
from typing import Callable, List, Sequence, Tuple

INSERTED_BYTES = (b"\x00", b"\x7f", b"\x80", b"\xff", b"\r", b"\n", b"\x0b", b"\t", b" ")
FRAMING_LINES = (b"Content-Length: 0", b"Content-Length: 5", b"Content-Length: 36", b"Content-Length: 5, 5",
                 b"content-length: 1", b"Transfer-Encoding: chunked", b"transfer-encoding: CHUNKED",
                 b"Transfer-Encoding: gzip, chunked", b"Transfer-Encoding: chunked, gzip",
                 b"Transfer-Encoding: identity", b"Transfer-Encoding: ,chunked", b"Connection: close")
CHUNK_SIZE = re.compile(rb"\r\n([0-9A-Fa-f]+)([;\r])")
VERSION = re.compile(rb"HTTP/1\.[01]")


def _head_end(data: bytes) -> int:
    """Where DATA's first head ends (after its last field line's CRLF), or its length."""
    end = data.find(b"\r\n\r\n")
    return len(data) if end < 0 else end + 2


def _lines(data: bytes) -> List[Tuple[int, int]]:
    """(start, end) of each field line of DATA's first head (CRLF excluded)."""
    head = data[:_head_end(data)]
    spans, at = [], head.find(b"\r\n")
    while at >= 0:
        start = at + 2
        at = head.find(b"\r\n", start)
        if at > start:
            spans.append((start, at))
    return spans


def flip_name_case(rng: random.Random, data: bytes) -> bytes:
    """Random case for the name of one field line."""
    lines = [span for span in _lines(data) if b":" in data[span[0]:span[1]]]
    if not lines:
        return data
    start, end = rng.choice(lines)
    colon = data.index(b":", start)
    name = bytes(c ^ 0x20 if chr(c).isalpha() and rng.random() < 0.5 else c for c in data[start:colon])
    return data[:start] + name + data[colon:]


def insert_whitespace(rng: random.Random, data: bytes) -> bytes:
    """SP or HTAB inserted in the head: around a colon, at a line's start or end, anywhere."""
    end = _head_end(data)
    spots = [i for i in range(end) if data[i:i + 1] in (b":", b"\r")] + [s for s, _ in _lines(data)]
    at = rng.choice(spots) if spots and rng.random() < 0.7 else rng.randrange(end + 1)
    return data[:at] + rng.choice((b" ", b"\t")) + data[at:]


def remove_whitespace(rng: random.Random, data: bytes) -> bytes:
    """One SP or HTAB removed."""
    spots = [i for i, c in enumerate(data) if c in b" \t"]
    if not spots:
        return data
    at = rng.choice(spots)
    return data[:at] + data[at + 1:]


def break_crlf(rng: random.Random, data: bytes) -> bytes:
    """One CRLF turned into a bare LF or a bare CR."""
    spots = [m.start() for m in re.finditer(rb"\r\n", data)]
    if not spots:
        return data
    at = rng.choice(spots)
    return data[:at] + rng.choice((b"\n", b"\r")) + data[at + 2:]


def duplicate_line(rng: random.Random, data: bytes) -> bytes:
    """One field line repeated right after itself."""
    lines = _lines(data)
    if not lines:
        return data
    start, end = rng.choice(lines)
    return data[:end + 2] + data[start:end + 2] + data[end + 2:]


def drop_line(rng: random.Random, data: bytes) -> bytes:
    """One field line removed."""
    lines = _lines(data)
    if not lines:
        return data
    start, end = rng.choice(lines)
    return data[:start] + data[end + 2:]


def add_framing_line(rng: random.Random, data: bytes) -> bytes:
    """A Content-Length, Transfer-Encoding or Connection line added to the head."""
    first = data.find(b"\r\n")
    if first < 0:
        return data
    spots = [first + 2] + [end + 2 for _, end in _lines(data)]
    at = rng.choice(spots)
    return data[:at] + rng.choice(FRAMING_LINES) + b"\r\n" + data[at:]


def change_chunk_size(rng: random.Random, data: bytes) -> bytes:
    """One chunk-size after the head made bigger, smaller, zero, padded, spaced or prefixed."""
    found = [m for m in CHUNK_SIZE.finditer(data, _head_end(data)) if m.start() >= _head_end(data)]
    if not found:
        return data
    match = rng.choice(found)
    size = int(match.group(1), 16)
    new = rng.choice((b"%x" % (size + 1), b"%x" % max(0, size - 1), b"0", b"%X" % size, b"00%x" % size,
                      b"%x " % size, b"0x%x" % size, b"%x\t" % size, b"-%x" % size, b"%x" % (size + 16)))
    return data[:match.start(1)] + new + data[match.end(1):]


def insert_byte(rng: random.Random, data: bytes) -> bytes:
    """NUL, DEL, 0x80, 0xFF, CR, LF, VT, HTAB or SP inserted anywhere."""
    at = rng.randrange(len(data) + 1)
    return data[:at] + rng.choice(INSERTED_BYTES) + data[at:]


def replace_byte(rng: random.Random, data: bytes) -> bytes:
    """One byte replaced by a random one."""
    if not data:
        return data
    at = rng.randrange(len(data))
    return data[:at] + bytes([rng.randrange(256)]) + data[at + 1:]


def change_version(rng: random.Random, data: bytes) -> bytes:
    """One HTTP/1.x version changed (1.0, 1.1, 1.2, 2.0)."""
    found = list(VERSION.finditer(data))
    if not found:
        return data
    match = rng.choice(found)
    return data[:match.start()] + rng.choice((b"HTTP/1.0", b"HTTP/1.1", b"HTTP/1.2", b"HTTP/2.0")) + data[match.end():]


def truncate(rng: random.Random, data: bytes) -> bytes:
    """The end cut off at a random point."""
    return data[:rng.randrange(1, len(data) + 1)] if data else data


OPERATORS: Sequence[Callable[[random.Random, bytes], bytes]] = (
    flip_name_case, insert_whitespace, remove_whitespace, break_crlf, duplicate_line, drop_line,
    add_framing_line, change_chunk_size, insert_byte, replace_byte, change_version, truncate)


def mutant(rng: random.Random, sources: Sequence[bytes]) -> Tuple[bytes, List[str], List[bytes]]:
    """(the mutated bytes, the operators' names, the writes) from a random source of SOURCES,
    another one sometimes appended (pipelined)."""
    data = rng.choice(sources)
    names = []
    if rng.random() < 0.25:
        data += rng.choice(sources)
        names.append("pipelined")
    for _ in range(rng.randint(1, 3)):
        operator = rng.choice(OPERATORS)
        data = operator(rng, data)
        names.append(operator.__name__)
    if not data:
        data = b"\r\n"
    cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 3)))) if len(data) > 1 else []
    pieces = [data[a:b] for a, b in zip([0] + cuts, cuts + [len(data)])]
    return data, names, pieces
