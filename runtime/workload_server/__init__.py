"""Run a WSGI app under gunicorn + meinheld on a read-only root filesystem.

``python3 -m workload_server`` is the container's entrypoint; see
``launcher`` (startup), ``settings`` (environment variables), ``cgroup``
(CPU limit) and ``worker`` (the meinheld worker class).
"""
