"""The benchmarks' workload app: TechEmpower's request shapes and a call to an upstream service."""

__version__ = "1.0.0"
