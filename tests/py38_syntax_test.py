"""Every Python source of the app parses as Python 3.8."""

import ast
import unittest

import support


class Py38SyntaxTest(unittest.TestCase):
    """``ast.parse(..., feature_version=(3, 8))`` on each file under app/."""

    def test_sources_parse_as_python_3_8(self) -> None:
        sources = sorted(support.APP_DIR.rglob("*.py"))
        self.assertIn(support.APP_DIR / "app" / "main.py", sources)
        for path in sources:
            with self.subTest(path=str(path.relative_to(support.APP_DIR))):
                ast.parse(path.read_text(encoding="utf-8"), str(path), feature_version=(3, 8))

    def test_newer_syntax_is_refused(self) -> None:
        with self.assertRaises(SyntaxError):
            ast.parse("match x:\n    case 1:\n        pass\n", feature_version=(3, 8))


if __name__ == "__main__":
    unittest.main()
