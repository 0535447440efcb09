"""A Flask workload for the starter kit."""

__version__ = "1.0.0"
