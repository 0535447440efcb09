"""Start gunicorn in this process with the meinheld worker, on a read-only root.

Nothing is written outside /dev/shm: the worker heartbeat files go there
(``worker_tmp_dir``), gunicorn's control socket is off, there is no pidfile,
logs go to stdout/stderr, request bodies stay in memory and no bytecode is
written.
"""

import importlib
import importlib.util
import json
import os
import runpy
import sys
from typing import Any, Callable, Dict, Mapping, Optional

from gunicorn.app.base import BaseApplication

from workload_server import cgroup, forksafe, settings

WORKER_CLASS = "workload_server.worker.MeinheldWorker"
# gunicorn >= 25.1 opens a control socket under $HOME unless told not to.
CONTROL_SOCKET_OFF = "control_socket_disable"


class StartupError(Exception):
    """A problem that stops the server from starting; ``str()`` is one line."""


def module_exists(name: str) -> bool:
    """Return whether ``name`` can be imported (imports its parent package)."""
    try:
        return importlib.util.find_spec(name) is not None
    except ImportError:
        return False


def gunicorn_options(config: settings.Settings) -> Dict[str, Any]:
    """Return the gunicorn settings (by gunicorn's names) for ``config``."""
    options: Dict[str, Any] = {
        "bind": [config.bind],
        "workers": config.workers,
        "threads": config.threads,
        "worker_class": WORKER_CLASS,
        "worker_tmp_dir": config.worker_tmp_dir,
        "loglevel": config.log_level,
        "accesslog": config.access_log,
        "timeout": config.timeout,
        "graceful_timeout": config.graceful_timeout,
        "keepalive": config.keep_alive,
        "max_requests": config.max_requests,
        "max_requests_jitter": config.max_requests_jitter,
        "pidfile": None,
    }
    if config.error_log is not None:
        options["errorlog"] = config.error_log
    return options


def check_writable_dir(variable: str, path: str) -> None:
    """Raise StartupError unless ``path`` is a directory this user can write."""
    if not os.path.isdir(path):
        raise StartupError(f"{variable}: {path} does not exist (mount a tmpfs there)")
    if not os.access(path, os.W_OK | os.X_OK):
        raise StartupError(f"{variable}: {path} is not writable by uid {os.getuid()}")


def import_app(config: settings.Settings) -> Callable:
    """Import the WSGI callable named by ``config.app_module``."""
    module_name, _, variable = config.app_module.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name is None or not module_name.startswith(error.name):
            raise
        raise StartupError(
            f"{config.module_source}: module {module_name!r} not found"
        ) from None
    app = getattr(module, variable, None)
    if not callable(app):
        raise StartupError(
            f"{config.variable_source}: {module_name!r} has no callable {variable!r}"
        )
    return app


def read_conf_file(path: str) -> Dict[str, Any]:
    """Run a gunicorn Python config file and return its top-level names."""
    try:
        namespace = runpy.run_path(path)
    except Exception as error:  # the user's file: report any failure in one line
        raise StartupError(
            f"GUNICORN_CONF: {path}: {type(error).__name__}: {error}"
        ) from None
    return {k: v for k, v in namespace.items() if not k.startswith("_")}


class WorkloadApplication(BaseApplication):
    """A gunicorn application configured from code, serving one WSGI callable."""

    def __init__(
        self,
        config: settings.Settings,
        wsgi_app: Callable,
        conf_file: Mapping[str, Any],
    ) -> None:
        self.config = config
        self.max_body = config.max_body  # read by workload_server.worker
        self._wsgi_app = wsgi_app
        self._conf_file = conf_file
        self.overridden: list = []
        super().__init__()

    def load_config(self) -> None:
        """Apply our settings, then those a GUNICORN_CONF file sets."""
        for name, value in gunicorn_options(self.config).items():
            self.cfg.set(name, value)
        if CONTROL_SOCKET_OFF in self.cfg.settings:
            self.cfg.set(CONTROL_SOCKET_OFF, True)
        for name, value in sorted(self._conf_file.items()):
            if name.lower() not in self.cfg.settings:
                continue
            try:
                self.cfg.set(name.lower(), value)
            except Exception as error:  # gunicorn's validators raise several types
                raise StartupError(
                    f"GUNICORN_CONF: setting {name}: {error}"
                ) from None
            self.overridden.append(name.lower())

    def load(self) -> Callable:
        """Return the WSGI app, imported before the workers fork."""
        return self._wsgi_app

    def log_record(self) -> Dict[str, Any]:
        """The effective settings, for the one JSON line logged at start."""
        record: Dict[str, Any] = {
            "app_module": self.config.app_module,
            "gunicorn_conf": self.config.gunicorn_conf,
            "cpus": self.config.cpus,
            "workers_per_core": self.config.workers_per_core,
            "max_body": self.config.max_body,
            "overridden_by_gunicorn_conf": self.overridden,
        }
        names = set(gunicorn_options(self.config)) | {"errorlog", *self.overridden}
        if CONTROL_SOCKET_OFF in self.cfg.settings:
            names.add(CONTROL_SOCKET_OFF)
        for name in names:
            record[name] = self.cfg.settings[name].get()
        return record


def prepare(environ: Mapping[str, str]) -> WorkloadApplication:
    """Validate the environment, import the app and build the gunicorn app."""
    config = settings.from_environ(
        environ,
        cpus=cgroup.available_cpus(),
        module_exists=module_exists,
        is_file=os.path.isfile,
    )
    conf_file: Dict[str, Any] = {}
    if config.gunicorn_conf is not None:
        conf_file = read_conf_file(config.gunicorn_conf)
    application = WorkloadApplication(config, import_app(config), conf_file)
    heartbeat_dir = application.cfg.worker_tmp_dir
    where = "GUNICORN_CONF" if "worker_tmp_dir" in application.overridden else "heartbeat"
    check_writable_dir(f"{where} worker_tmp_dir", heartbeat_dir)
    return application


def run(environ: Optional[Mapping[str, str]] = None) -> int:
    """Start the server; return an exit status if it cannot start."""
    try:
        application = prepare(os.environ if environ is None else environ)
    except (settings.SettingsError, StartupError) as error:
        print(f"workload_server: error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(application.log_record(), sort_keys=True, default=str),
          file=sys.stderr, flush=True)
    forksafe.install()
    application.run()
    return 0
