"""Entry point: ``python3 -m workload_server [--help]``."""

import argparse
import sys

from workload_server import settings

INTRO = """\
Serves the WSGI app APP_MODULE with gunicorn and meinheld workers, on a
read-only root: only /dev/shm must be writable. Configured by environment
variables (empty means unset):

"""


def main() -> int:
    """Parse the command line (only --help) and start the server."""
    sys.dont_write_bytecode = True
    argparse.ArgumentParser(
        prog="python3 -m workload_server",
        description=INTRO + settings.help_text(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args()
    from workload_server import launcher  # after argparse: --help needs no gunicorn

    return launcher.run()


if __name__ == "__main__":
    sys.exit(main())
