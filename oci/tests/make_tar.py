"""Writes a small reproducible tar from PATH=CONTENT pairs (test input for oci_image)."""

from __future__ import annotations

import argparse
import io
import sys
import tarfile


def main(argv: list[str]) -> int:
    """Entry point: writes the tar; each PATH=CONTENT becomes a 0644 file owned by 0:0, mtime 0."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--output", required=True, help="tar file to write")
    parser.add_argument("files", nargs="+", metavar="PATH=CONTENT")
    args = parser.parse_args(argv)
    with tarfile.open(args.output, "w", format=tarfile.USTAR_FORMAT) as archive:
        for spec in args.files:
            path, separator, content = spec.partition("=")
            if not separator:
                print(f"make_tar: expected PATH=CONTENT, got {spec!r}", file=sys.stderr)
                return 1
            data = content.encode()
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            archive.addfile(info, io.BytesIO(data))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
