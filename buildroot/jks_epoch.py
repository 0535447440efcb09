"""Sets the date of every entry of a JKS keystore to $SOURCE_DATE_EPOCH and seals it again.

Usage: jks_epoch.py KEYSTORE [PASSWORD]   (PASSWORD: default changeit, Debian's)
ca-certificates-java writes the time of the install into each entry of
/etc/ssl/certs/java/cacerts: the only thing in it that differs between two builds of
the build root. The keystore's trailing SHA-1 covers the password and every byte before
it; the old one is checked first, so a wrong password changes nothing.
"""

import hashlib
import os
import struct
import sys

MAGIC, VERSION, TRUSTED_CERTIFICATE = 0xFEEDFEED, 2, 2


def seal(password: str, body: bytes) -> bytes:
    """The JKS integrity digest of BODY under PASSWORD."""
    return hashlib.sha1(password.encode("utf-16-be") + b"Mighty Aphrodite" + body).digest()


def set_dates(data: bytes, millis: int, password: str) -> bytes:
    """DATA (a JKS keystore of trusted certificates) with every entry dated MILLIS."""
    magic, version, count = struct.unpack_from(">IIi", data, 0)
    if (magic, version) != (MAGIC, VERSION):
        raise ValueError("not a JKS keystore of version 2")
    body = bytearray(data[:-20])
    if seal(password, bytes(body)) != data[-20:]:
        raise ValueError("its digest does not match: not this password, or damaged")
    position = 12
    for _ in range(count):
        (tag,) = struct.unpack_from(">I", body, position)
        if tag != TRUSTED_CERTIFICATE:
            raise ValueError(f"an entry of type {tag}: only trusted certificates are handled")
        (alias,) = struct.unpack_from(">H", body, position + 4)
        position += 6 + alias
        struct.pack_into(">q", body, position, millis)
        (kind,) = struct.unpack_from(">H", body, position + 8)
        position += 10 + kind
        (length,) = struct.unpack_from(">I", body, position)
        position += 4 + length
    if position != len(body):
        raise ValueError("bytes left after the last entry")
    return bytes(body) + seal(password, bytes(body))


def main(argv: list) -> int:
    """Entry point."""
    if len(argv) not in (1, 2) or argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0 if argv[:1] in (["-h"], ["--help"]) else 2
    path = argv[0]
    with open(path, "rb") as keystore:
        data = keystore.read()
    try:
        result = set_dates(data, int(os.environ["SOURCE_DATE_EPOCH"]) * 1000, argv[1] if len(argv) > 1 else "changeit")
    except (ValueError, struct.error, KeyError) as error:
        print(f"jks_epoch: {path}: {error}", file=sys.stderr)
        return 1
    with open(path, "wb") as keystore:
        keystore.write(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
