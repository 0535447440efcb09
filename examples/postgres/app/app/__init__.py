"""A PostgreSQL-backed workload for the starter kit (psycopg2, built from source)."""

__version__ = "1.0.0"
