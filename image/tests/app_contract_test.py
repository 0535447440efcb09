"""The user's app keeps the kit's contract (seed-python-workload.md), whatever it does.

* `cd app && python -c "import app; print(app.__version__)"` prints the version the
  image is stamped with (read by //image:version from app/app/__init__.py);
* app.main.app is a callable (the WSGI application);
* every source parses as Python 3.8;
* every module the sources import exists: the standard library, the app itself, or a
  locked requirement (imports guarded by `try: ... except ImportError` and under
  `if TYPE_CHECKING:` may be missing).
"""

import ast
import importlib.util
import os
import subprocess
import sys
import unittest
from pathlib import Path
from typing import Iterator, List, Tuple

import app
from version import read_version

APP_DIR = Path(app.__file__).resolve().parent.parent
PYTHON_FLOOR = (3, 8)
UPDATE_COMMAND = "./bazelw run //:requirements.update"
_IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}


def sources() -> List[Path]:
    """The app's Python files, sorted."""
    return sorted((APP_DIR / "app").rglob("*.py"))


def _guarded(handlers: List[ast.ExceptHandler]) -> bool:
    """Whether an except clause catches a failed import."""
    for handler in handlers:
        types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
        if handler.type is None or any(isinstance(t, ast.Name) and t.id in _IMPORT_ERRORS for t in types):
            return True
    return False


def required_imports(tree: ast.AST) -> Iterator[Tuple[str, int]]:
    """(top-level module, line) of each absolute import that must succeed."""
    def visit(node: ast.AST, optional: bool) -> Iterator[Tuple[str, int]]:
        if isinstance(node, ast.Import) and not optional:
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and not optional and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno
        elif isinstance(node, ast.Try):
            guarded = optional or _guarded(node.handlers)
            for child in node.body:
                yield from visit(child, guarded)
            for child in node.handlers + node.orelse + node.finalbody:
                yield from visit(child, optional)
        elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
            for child in node.orelse:
                yield from visit(child, optional)
        else:
            for child in ast.iter_child_nodes(node):
                yield from visit(child, optional)
    yield from visit(tree, False)


class AppContractTest(unittest.TestCase):
    """The seed's contract, checked on the app as it is now."""

    def test_version_command(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        done = subprocess.run([sys.executable, "-c", "import app; print(app.__version__)"], cwd=str(APP_DIR),
                              env=env, capture_output=True, text=True, timeout=60, check=False)
        self.assertEqual(done.returncode, 0, done.stderr)
        self.assertEqual(done.stdout, read_version(APP_DIR / "app" / "__init__.py") + "\n")

    def test_main_app_is_callable(self) -> None:
        import app.main  # noqa: F401  (the user's module; importing it is the test)

        self.assertTrue(callable(getattr(app.main, "app", None)), "app/app/main.py must define a callable `app`")

    def test_sources_parse_as_python_3_8(self) -> None:
        self.assertIn(APP_DIR / "app" / "main.py", sources())
        for path in sources():
            with self.subTest(path=str(path.relative_to(APP_DIR.parent))):
                ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=PYTHON_FLOOR)

    def test_every_import_is_provided(self) -> None:
        missing = []
        for path in sources():
            tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            for module, line in required_imports(tree):
                if importlib.util.find_spec(module) is None:
                    missing.append(f"{path.relative_to(APP_DIR.parent)}:{line} imports {module!r}, which no "
                                   f"requirement provides: add the package that provides it to requirements.txt, "
                                   f"then run {UPDATE_COMMAND}")
        self.assertEqual(missing, [], "\n" + "\n".join(missing))


class CheckerTest(unittest.TestCase):
    """The checks above can fail."""

    def test_python_3_10_syntax_is_refused(self) -> None:
        with self.assertRaises(SyntaxError):
            ast.parse("match x:\n    case 1:\n        pass\n", feature_version=PYTHON_FLOOR)

    def test_required_and_optional_imports(self) -> None:
        tree = ast.parse(
            "import a.b, c\nfrom d.e import f\nfrom . import g\n"
            "try:\n    import h\nexcept ImportError:\n    import i\n"
            "try:\n    import j\nexcept ValueError:\n    pass\n"
            "if TYPE_CHECKING:\n    import k\n"
            "def fn():\n    import l\n"
        )
        self.assertEqual(sorted(m for m, _ in required_imports(tree)), ["a", "c", "d", "i", "j", "l"])


if __name__ == "__main__":
    unittest.main()
