"""pytest_tests: every test file of a folder as a py_test run by pytest, with no BUILD edit.

Load with `load("//python/pytest:defs.bzl", "pytest_tests")`.
"""

load("@pypi_test//:requirements.bzl", "all_requirements")
load("@rules_python//python:defs.bzl", "py_library", "py_test")

_MAIN = "//python/pytest:pytest_main.py"
_TEST_FILES = ["**/test_*.py", "**/*_test.py"]

def pytest_tests(name, deps = [], srcs = None, **kwargs):
    """One py_test per test file (`test_*.py` or `*_test.py`, in subfolders too), run by pytest.

    Each test target is named after its file without `.py` (tests/app_test.py ->
    //tests:app_test); NAME is a test_suite of them all. The other Python files
    (conftest.py, helpers) and every other file of the folder (fixtures, data) come
    along with each test; test requirements (requirements_test_lock.txt) are deps.

    Args:
      name: the test_suite holding every test.
      deps: what the tests import besides the test requirements, e.g. ["//app"].
      srcs: the test files (default: every test_*.py and *_test.py below this folder).
      **kwargs: passed to each py_test (size, tags, env, timeout...).
    """
    if srcs == None:
        srcs = native.glob(_TEST_FILES, allow_empty = True)
    support = name + "_support"
    py_library(
        name = support,
        testonly = True,
        srcs = native.glob(["**/*.py"], exclude = srcs, allow_empty = True),
        data = native.glob(["**"], exclude = ["**/*.py", "**/*.pyc", "**/__pycache__/**", "BUILD", "BUILD.bazel"], allow_empty = True),
        imports = ["."],
    )
    args = kwargs.pop("args", [])
    tests = []
    for src in srcs:
        test = src[:-len(".py")]
        py_test(
            name = test,
            srcs = [src, _MAIN],
            main = _MAIN,
            args = ["$(rootpath %s)" % src] + args,
            legacy_create_init = False,
            deps = [":" + support] + deps + all_requirements,
            **kwargs
        )
        tests.append(":" + test)
    native.test_suite(name = name, tests = tests)
