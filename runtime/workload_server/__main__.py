"""Entry point: ``python3 -m workload_server [--help]``."""

import argparse
import sys

HELP = """\
Serves the WSGI app APP_MODULE with gunicorn and meinheld workers, on a
read-only root: only /dev/shm must be writable. Configured by environment
variables (empty means unset):

  APP_MODULE        module:variable to serve (default MODULE_NAME:VARIABLE_NAME)
  MODULE_NAME       module holding the app (default app.main, else main)
  VARIABLE_NAME     name of the WSGI callable in it (default app)
  GUNICORN_CONF     gunicorn Python config file applied last (default
                    /app/gunicorn_conf.py, else /app/app/gunicorn_conf.py, if present)
  WORKERS_PER_CORE  workers per available CPU (default 2; CPUs from the cgroup limit)
  WEB_CONCURRENCY   number of workers, overrides WORKERS_PER_CORE
  HOST, PORT        address to listen on (default 0.0.0.0, 8080)
  BIND              host:port, overrides HOST and PORT
  LOG_LEVEL         debug, info, warning, error or critical (default info)
  ACCESS_LOG        access log target (default - = stdout; empty = off)
  ERROR_LOG         error log target (default - = stderr)
  TIMEOUT           seconds before a silent worker is restarted (default 120)
  GRACEFUL_TIMEOUT  seconds to finish requests on shutdown (default 120)
  KEEP_ALIVE        keep-alive seconds, 0 = off (default 5)
  MAX_BODY          largest request body in bytes, larger get 413
                    (default 10485760, at most 1073741824)
"""


def main() -> int:
    """Parse the command line (only --help) and start the server."""
    sys.dont_write_bytecode = True
    argparse.ArgumentParser(
        prog="python3 -m workload_server",
        description=HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    ).parse_args()
    from workload_server import launcher  # after argparse: --help needs no gunicorn

    return launcher.run()


if __name__ == "__main__":
    sys.exit(main())
