"""markers.bzl for the Python tools: the same PEP 508 evaluator the pypi extension runs.

markers.bzl is written in the part of Starlark that is also Python 3, so the tools that
read a universal lock (the SBOM, the tests) choose its entries exactly as the extension
does.
"""

from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

_SCOPE: Dict[str, Any] = {}
_SOURCE = Path(__file__).with_name("markers.bzl")
exec(compile(_SOURCE.read_text(encoding="utf-8"), str(_SOURCE), "exec"), _SCOPE)  # noqa: S102

evaluate_marker: Callable[[str, Dict[str, str]], Tuple[bool, str]] = _SCOPE["evaluate_marker"]
marker_environment: Callable[[str, str, str], Dict[str, str]] = _SCOPE["marker_environment"]
debian_python_versions: Callable[[str, List[Dict[str, str]]], Tuple[str, str]] = _SCOPE["debian_python_versions"]
