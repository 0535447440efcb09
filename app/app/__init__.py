"""The user's workload: a tiny WSGI application (standard library only)."""

__version__ = "1.0.0"
