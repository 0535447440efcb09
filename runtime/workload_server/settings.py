"""Server settings read from environment variables, without side effects.

The variable names, defaults and precedence follow tiangolo's
meinheld-gunicorn image (``MODULE_NAME``, ``VARIABLE_NAME``, ``APP_MODULE``,
``GUNICORN_CONF``, ``WORKERS_PER_CORE``, ``WEB_CONCURRENCY``, ``HOST``,
``PORT``, ``BIND``, ``LOG_LEVEL``) and its uvicorn-gunicorn sibling
(``ACCESS_LOG``, ``ERROR_LOG``, ``TIMEOUT``, ``GRACEFUL_TIMEOUT``,
``KEEP_ALIVE``). Differences: ``PORT`` has no default of its own (the image sets it,
from image/settings.json: an unprivileged port for a non-root user), and ``THREADS``
(gunicorn's ``threads``), ``MAX_BODY``, ``MAX_REQUESTS`` and ``MAX_REQUESTS_JITTER``
are new. VARIABLES lists them all with
their defaults and meanings: the ``--help`` text and runtime/README.md's table come
from it.

Everything that touches the machine (does a module exist, is a path a file,
how many CPUs) is passed in, so this module can be tested with plain dicts.
"""

import dataclasses
import math
import re
import textwrap
from typing import Callable, Mapping, Optional, Sequence, Tuple

DEFAULT_MODULES = ("app.main", "main")
DEFAULT_VARIABLE = "app"
DEFAULT_CONF_FILES = ("/app/gunicorn_conf.py", "/app/app/gunicorn_conf.py")
DEFAULT_WORKERS_PER_CORE = 2.0
# Requests that may wait at once, per CPU, across a container's workers: THREADS's
# default is this times the CPUs over the workers (BENCHMARKS.md, "Requests that wait").
DEFAULT_THREADS_PER_CORE = 64
MAX_THREADS = 256  # meinheld's pool (POOL_MAX_THREADS)
DEFAULT_HOST = "0.0.0.0"
DEFAULT_LOG_LEVEL = "info"
DEFAULT_TIMEOUT = 120
DEFAULT_GRACEFUL_TIMEOUT = 120
DEFAULT_KEEP_ALIVE = 5
DEFAULT_MAX_BODY = 10 * 1024 * 1024
DEFAULT_MAX_REQUESTS = 0
DEFAULT_MAX_REQUESTS_JITTER = 1000
# meinheld keeps a body in one buffer capped at 1 GiB (LIMIT_MAX in buffer.c).
MAX_BODY_CEILING = 1024 * 1024 * 1024
LOG_LEVELS = ("debug", "info", "warning", "error", "critical")
HEARTBEAT_DIR = "/dev/shm"

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclasses.dataclass(frozen=True)
class Variable:
    """One environment variable the launcher reads: its name, its default as shown to
    people, and what it means."""

    name: str
    default: str
    meaning: str


VARIABLES = (
    Variable("MODULE_NAME", " if importable, else ".join(DEFAULT_MODULES), "module holding the WSGI app"),
    Variable("VARIABLE_NAME", DEFAULT_VARIABLE, "name of the WSGI callable in that module"),
    Variable("APP_MODULE", "MODULE_NAME:VARIABLE_NAME", "module:variable to serve; overrides both"),
    Variable("GUNICORN_CONF", ", else ".join(DEFAULT_CONF_FILES) + ", if present",
             "gunicorn Python config file; its settings are applied last and win"),
    Variable("WORKERS_PER_CORE", "%g" % DEFAULT_WORKERS_PER_CORE,
             "workers per CPU (may be fractional); CPUs = the container's cgroup CPU limit, capped by the "
             "CPU affinity, not the host's core count"),
    Variable("WEB_CONCURRENCY", "WORKERS_PER_CORE x CPUs, at least 1", "number of workers; overrides WORKERS_PER_CORE"),
    Variable("THREADS", "%d x CPUs / workers, rounded up, 1 to %d" % (DEFAULT_THREADS_PER_CORE, MAX_THREADS),
             "threads per worker that serve requests (gunicorn's threads): a request that waits on a database, "
             "another service or a sleep holds one while the others go on serving; 1 serves on the worker's "
             "loop alone (CPU-bound apps). At most %d" % MAX_THREADS),
    Variable("HOST", DEFAULT_HOST, "address to listen on"),
    Variable("PORT", "set by the image (image/settings.json)",
             "port to listen on (tiangolo's default is 80; the image's is unprivileged, for a non-root user)"),
    Variable("BIND", "HOST:PORT", "gunicorn bind address (HOST:PORT, [IPV6]:PORT or unix:PATH); overrides HOST and PORT"),
    Variable("LOG_LEVEL", DEFAULT_LOG_LEVEL, ", ".join(LOG_LEVELS)),
    Variable("ACCESS_LOG", "- (stdout)", "access log target; empty turns access logging off (faster)"),
    Variable("ERROR_LOG", "- (stderr)", "error log target; empty means the default"),
    Variable("TIMEOUT", str(DEFAULT_TIMEOUT), "seconds a worker may stay silent before the master restarts it (0 = "
             "never), and the longest a request body may stall between two reads (1 to 120)"),
    Variable("GRACEFUL_TIMEOUT", str(DEFAULT_GRACEFUL_TIMEOUT), "seconds a worker gets to finish open requests on SIGTERM"),
    Variable("KEEP_ALIVE", str(DEFAULT_KEEP_ALIVE), "keep-alive seconds, 0 turns keep-alive off (tiangolo's meinheld image "
             "hard-codes 120); also the time a request's headers have to arrive from its first byte (TIMEOUT "
             "if keep-alive is off; 1 to 120)"),
    Variable("MAX_BODY", "%d (10 MiB)" % DEFAULT_MAX_BODY,
             "largest request body in bytes (plain or chunked), held in memory; larger get 413. At most %d "
             "(meinheld's buffer cap)" % MAX_BODY_CEILING),
    Variable("MAX_REQUESTS", str(DEFAULT_MAX_REQUESTS),
             "a worker retires (gracefully, the master starts a new one) after this many requests; 0 never "
             "(as in gunicorn: the kit's meinheld on greenlet 3 does not grow per request)"),
    Variable("MAX_REQUESTS_JITTER", str(DEFAULT_MAX_REQUESTS_JITTER),
             "up to this many more requests, drawn per worker, so workers do not all retire at once"),
)


def help_text(columns: int = 79) -> str:
    """The variables as --help lists them: name, then meaning and default, wrapped."""
    width = max(len(v.name) for v in VARIABLES) + 4
    lines = []
    for variable in VARIABLES:
        text = "%s (default: %s)" % (variable.meaning, variable.default)
        lines += textwrap.wrap(text, columns, initial_indent="  " + variable.name.ljust(width - 2),
                               subsequent_indent=" " * width, break_on_hyphens=False)
    return "\n".join(lines) + "\n"


def markdown_table() -> str:
    """The variables as runtime/README.md's table."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += ["| `%s` | %s | %s |" % (v.name, v.default, v.meaning) for v in VARIABLES]
    return "\n".join(rows) + "\n"


class SettingsError(ValueError):
    """A bad environment variable; ``str()`` is one line naming it."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable


@dataclasses.dataclass(frozen=True)
class Settings:
    """The effective server settings.

    ``module_source`` and ``variable_source`` name the environment variable
    (or default) that chose each half of ``app_module``, so that a failed
    import can be reported against the variable the user set.
    """

    app_module: str
    module_source: str
    variable_source: str
    gunicorn_conf: Optional[str]
    cpus: float
    workers_per_core: float
    workers: int
    threads: int
    bind: str
    log_level: str
    access_log: Optional[str]
    error_log: Optional[str]
    timeout: int
    graceful_timeout: int
    keep_alive: int
    max_body: int
    max_requests: int
    max_requests_jitter: int
    worker_tmp_dir: str = HEARTBEAT_DIR

    def as_log_record(self) -> dict:
        """Return the settings as a JSON-ready dict (sorted when dumped)."""
        record = dataclasses.asdict(self)
        del record["module_source"], record["variable_source"]
        return record


def _get(environ: Mapping[str, str], name: str) -> Optional[str]:
    """Return the variable's value, treating an empty value as unset."""
    value = environ.get(name, "")
    return value if value.strip() else None


def _int(
    environ: Mapping[str, str], name: str, default: int, low: int, high: int
) -> int:
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise SettingsError(name, f"{raw!r} is not an integer") from None
    if not low <= value <= high:
        raise SettingsError(name, f"{value} is outside {low}..{high}")
    return value


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = _get(environ, name)
    if raw is None:
        return default
    try:
        value = float(raw.strip())
    except ValueError:
        raise SettingsError(name, f"{raw!r} is not a number") from None
    if not (math.isfinite(value) and value > 0):
        raise SettingsError(name, f"{raw!r} must be a number greater than 0")
    return value


def _app_module(
    environ: Mapping[str, str], module_exists: Callable[[str], bool]
) -> Tuple[str, str, str]:
    """Return (APP_MODULE value, module's source, variable's source)."""
    explicit = _get(environ, "APP_MODULE")
    if explicit is not None:
        module, sep, variable = explicit.strip().partition(":")
        if not sep:
            variable = DEFAULT_VARIABLE
        if not (_DOTTED.match(module) and _IDENTIFIER.match(variable)):
            raise SettingsError(
                "APP_MODULE", f"{explicit!r} is not of the form module.path:variable"
            )
        return f"{module}:{variable}", "APP_MODULE", "APP_MODULE"
    module = _get(environ, "MODULE_NAME")
    module_source = "MODULE_NAME"
    if module is None:
        module = next((m for m in DEFAULT_MODULES if module_exists(m)), None)
        if module is None:
            raise SettingsError(
                "MODULE_NAME",
                "not set, and neither of the defaults "
                + " nor ".join(DEFAULT_MODULES)
                + " is importable",
            )
    elif not _DOTTED.match(module.strip()):
        raise SettingsError("MODULE_NAME", f"{module!r} is not a module path")
    variable = (_get(environ, "VARIABLE_NAME") or DEFAULT_VARIABLE).strip()
    if not _IDENTIFIER.match(variable):
        raise SettingsError("VARIABLE_NAME", f"{variable!r} is not an identifier")
    return f"{module.strip()}:{variable}", module_source, "VARIABLE_NAME"


def _gunicorn_conf(
    environ: Mapping[str, str],
    is_file: Callable[[str], bool],
    candidates: Sequence[str],
) -> Optional[str]:
    path = _get(environ, "GUNICORN_CONF")
    if path is None:
        return next((c for c in candidates if is_file(c)), None)
    if not is_file(path):
        raise SettingsError("GUNICORN_CONF", f"{path!r} is not a file")
    return path


def _bind(environ: Mapping[str, str]) -> str:
    bind = _get(environ, "BIND")
    if bind is not None:
        bind = bind.strip()
        port = bind.rpartition("]")[2] if bind.startswith("[") else bind
        if not bind.startswith(("unix:", "fd://")) and not port.rpartition(":")[2].isdigit():
            raise SettingsError("BIND", f"{bind!r} has no port; write HOST:PORT (e.g. 0.0.0.0:8080), or set HOST and PORT instead")
        return bind
    host = (_get(environ, "HOST") or DEFAULT_HOST).strip()
    if _get(environ, "PORT") is None:
        raise SettingsError("PORT", "not set (the image sets it); set PORT, or BIND to host:port")
    port = _int(environ, "PORT", 0, 1, 65535)
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _log_target(environ: Mapping[str, str], name: str) -> Optional[str]:
    """``-`` (the default) is stdout/stderr; an empty value turns it off."""
    if name not in environ:
        return "-"
    return _get(environ, name)


def from_environ(
    environ: Mapping[str, str],
    cpus: float,
    module_exists: Callable[[str], bool],
    is_file: Callable[[str], bool],
    conf_candidates: Sequence[str] = DEFAULT_CONF_FILES,
) -> Settings:
    """Build the settings from ``environ``; raise SettingsError on a bad value.

    ``cpus`` is the CPU capacity available to the container (see
    ``cgroup.available_cpus``); the default worker count is
    ``WORKERS_PER_CORE * cpus``, at least 1, unless ``WEB_CONCURRENCY`` is set, and
    the default thread count per worker ``DEFAULT_THREADS_PER_CORE * cpus / workers``.
    """
    app_module, module_source, variable_source = _app_module(environ, module_exists)
    workers_per_core = _positive_float(environ, "WORKERS_PER_CORE", DEFAULT_WORKERS_PER_CORE)
    if _get(environ, "WEB_CONCURRENCY") is None:
        workers = max(int(workers_per_core * cpus), 1)
    else:
        workers = _int(environ, "WEB_CONCURRENCY", 1, 1, 1024)
    threads = min(max(math.ceil(DEFAULT_THREADS_PER_CORE * cpus / workers), 1), MAX_THREADS)
    log_level = (_get(environ, "LOG_LEVEL") or DEFAULT_LOG_LEVEL).strip().lower()
    if log_level not in LOG_LEVELS:
        raise SettingsError("LOG_LEVEL", f"{log_level!r} is not one of {', '.join(LOG_LEVELS)}")
    return Settings(
        app_module=app_module,
        module_source=module_source,
        variable_source=variable_source,
        gunicorn_conf=_gunicorn_conf(environ, is_file, conf_candidates),
        cpus=cpus,
        workers_per_core=workers_per_core,
        workers=workers,
        threads=_int(environ, "THREADS", threads, 1, MAX_THREADS),
        bind=_bind(environ),
        log_level=log_level,
        access_log=_log_target(environ, "ACCESS_LOG"),
        error_log=_log_target(environ, "ERROR_LOG"),
        timeout=_int(environ, "TIMEOUT", DEFAULT_TIMEOUT, 0, 86400),
        graceful_timeout=_int(environ, "GRACEFUL_TIMEOUT", DEFAULT_GRACEFUL_TIMEOUT, 0, 86400),
        keep_alive=_int(environ, "KEEP_ALIVE", DEFAULT_KEEP_ALIVE, 0, 86400),
        max_body=_int(environ, "MAX_BODY", DEFAULT_MAX_BODY, 1, MAX_BODY_CEILING),
        max_requests=_int(environ, "MAX_REQUESTS", DEFAULT_MAX_REQUESTS, 0, 10**9),
        max_requests_jitter=_int(environ, "MAX_REQUESTS_JITTER", DEFAULT_MAX_REQUESTS_JITTER, 0, 10**9),
    )
