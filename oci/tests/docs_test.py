"""oci/README.md's rule sections are the rules' own docs, as attribute_docs.py writes them.

The tool runs as `bazel run` runs it, on the README and rule files of this tree, and on
a copy whose rule doc was changed, to show the check fails and --write repairs it.
"""

import os
import re
import shutil
import subprocess
import tempfile
import unittest
from pathlib import Path

TOOL = Path(os.environ["ATTRIBUTE_DOCS"])
README = Path(os.environ["README"])
DEFS = Path(os.environ["DEFS"])
# The executables whose flags a rule's doc lists, by rule.
TOOLS = {"oci_push_rule": Path(os.environ["PUSH_IMAGE"]), "cosign_sign_rule": Path(os.environ["COSIGN_IMAGE"])}
TIMEOUT = 60


def attribute_docs(*args: str) -> subprocess.CompletedProcess:
    """Runs the tool, returning its exit status and output."""
    return subprocess.run([str(TOOL), *args], capture_output=True, text=True, timeout=TIMEOUT)


class DocsTest(unittest.TestCase):
    def test_readme_is_the_rules_docs(self):
        done = attribute_docs(str(README))
        self.assertEqual(done.returncode, 0, done.stderr)

    def test_every_public_rule_has_a_section(self):
        """Each rule defs.bzl loads from private/ has its marker, naming the file it is in."""
        loads = re.findall(r'load\("//oci/private:(\w+\.bzl)", (.*)\)', DEFS.read_text())
        rules = {(name, bzl) for bzl, names in loads for name in re.findall(r'"(\w+_rule)"', names)}
        self.assertEqual(len(rules), 6, loads)
        readme = README.read_text()
        for name, bzl in sorted(rules):
            self.assertIn("<!-- attributes of %s (private/%s) -->\n" % (name, bzl), readme)

    def test_flags_in_the_docs_are_the_tools(self):
        """Each flag at the head of an item of a doc's list of flags is in the tool's --help."""
        readme = README.read_text()
        for rule, tool in TOOLS.items():
            section = readme.split("<!-- attributes of %s " % rule)[1].split("<!-- end of attributes -->")[0]
            heads = re.findall(r"^\* `([^`]+)`", section, re.M)
            flags = {flag for head in heads for flag in re.findall(r"(?<![\w-])(--?[a-z][a-z-]*)", head)}
            self.assertGreaterEqual(len(flags), 3, (rule, heads))
            args = ["sign", "--help"] if rule.startswith("cosign") else ["--help"]
            usage = subprocess.run([str(tool), *args], capture_output=True, text=True, timeout=TIMEOUT, check=True).stdout
            for flag in sorted(flags):
                self.assertRegex(usage, r"(?<![\w-])%s\b" % re.escape(flag), "%s's doc names %s" % (rule, flag))

    def test_a_changed_doc_fails_the_check_until_written(self):
        with tempfile.TemporaryDirectory() as tmp:
            copy = Path(tmp) / "oci"
            shutil.copytree(README.parent, copy, ignore=shutil.ignore_patterns("tests", "*.py"))
            image_bzl = copy / "private" / "image.bzl"
            old = "Paths added to config `Volumes`."
            self.assertIn(old, image_bzl.read_text())
            image_bzl.write_text(image_bzl.read_text().replace(old, "Paths | for `Volumes`."))

            done = attribute_docs(str(copy / "README.md"))
            self.assertEqual(done.returncode, 1)
            self.assertEqual(len(done.stderr.splitlines()), 1, done.stderr)
            self.assertIn("--write", done.stderr)

            self.assertEqual(attribute_docs("--write", str(copy / "README.md")).returncode, 0)
            self.assertIn("| `volumes` | list of strings | Paths \\| for `Volumes`. |\n", (copy / "README.md").read_text())
            self.assertEqual(attribute_docs(str(copy / "README.md")).returncode, 0)

    def test_a_marker_naming_no_rule_is_one_line(self):
        with tempfile.TemporaryDirectory() as tmp:
            readme = Path(tmp) / "README.md"
            shutil.copytree(README.parent / "private", Path(tmp) / "private", ignore=shutil.ignore_patterns("*.py"))
            readme.write_text("<!-- attributes of oci_nothing_rule (private/image.bzl) -->\n<!-- end of attributes -->\n")
            done = attribute_docs(str(readme))
            self.assertEqual(done.returncode, 1)
            self.assertRegex(done.stderr, r"^attribute_docs: .* names oci_nothing_rule, which private/image.bzl "
                                          r"does not define\n$")


if __name__ == "__main__":
    unittest.main()
