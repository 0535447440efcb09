"""Writes the rule sections of oci/README.md from the rules' own docs.

Each rule file of oci/private is read as the Starlark it is: Python runs it (its syntax
covers what these files use) with stand-ins for Bazel's `rule`, `attr`, `load` and
`Label` that record what each rule declares. Implementation functions are never called.

The README holds each rule's doc and attribute table between two marker lines:

    <!-- attributes of oci_image_rule (private/image.bzl) -->
    ...
    <!-- end of attributes -->
"""

import argparse
import os
import re
import sys
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional

BEGIN = re.compile(r"^<!-- attributes of (\w+) \((private/\w+\.bzl)\) -->\n", re.M)
END = "<!-- end of attributes -->"

# The attr.* functions the rules use, and how the table names what each takes.
KINDS = {
    "bool": "bool",
    "int": "int",
    "label": "label",
    "label_list": "list of labels",
    "string": "string",
    "string_dict": "dict of strings",
    "string_list": "list of strings",
}


class Attribute(NamedTuple):
    """One attribute as its rule declares it."""

    kind: str
    doc: str
    mandatory: bool


class Rule(NamedTuple):
    """A rule's doc and its public attributes."""

    doc: str
    attrs: Dict[str, Attribute]


class _Attr:
    """Stands in for Bazel's `attr` module."""

    def __getattr__(self, kind: str) -> Callable[..., Attribute]:
        if kind not in KINDS:
            raise ValueError("attr.%s is not in attribute_docs.py's KINDS" % kind)
        return lambda doc="", mandatory=False, **_: Attribute(KINDS[kind], doc, mandatory)


def _rule(implementation: object = None, doc: str = "", attrs: Optional[Dict[str, Attribute]] = None,
          **_: object) -> Rule:
    return Rule(doc, {name: a for name, a in (attrs or {}).items() if not name.startswith("_")})


def run_bzl(bzl: Path) -> Dict[str, object]:
    """Runs a .bzl file of oci/private and returns its top-level names."""
    scope: Dict[str, object] = {}

    def load(label: str, *names: str, **aliases: str) -> None:
        if not label.startswith(":"):
            raise ValueError("%s loads %s: only its own package's files are read" % (bzl, label))
        loaded = run_bzl(bzl.parent / label[1:])
        scope.update({name: loaded[name] for name in names})
        scope.update({alias: loaded[name] for alias, name in aliases.items()})

    scope.update(load=load, rule=_rule, attr=_Attr(), Label=str)
    try:
        exec(compile(bzl.read_text(), str(bzl), "exec"), scope)
    except (NameError, SyntaxError, TypeError) as error:  # Starlark this reader does not stand in for
        raise ValueError("%s cannot be read here: %s" % (bzl, error)) from None
    return scope


def _cell(text: str) -> str:
    """Text as one markdown table cell: one line, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def section(rule: Rule) -> str:
    """A rule's doc, then the markdown table of its public attributes in declaration order."""
    lines = [rule.doc.strip(), "", "| Attribute | Takes | Meaning |", "| --- | --- | --- |"]
    for name, attribute in rule.attrs.items():
        takes = attribute.kind + (", required" if attribute.mandatory else "")
        lines.append("| `%s` | %s | %s |" % (name, takes, _cell(attribute.doc)))
    return "\n".join(lines) + "\n"


def generate(readme: Path, text: str) -> str:
    """TEXT, README's, with every marked section written from the rule the marker names."""
    out: List[str] = []
    position = 0
    for begin in BEGIN.finditer(text):
        rule_name, bzl = begin.groups()
        end = text.index(END, begin.end())
        rules = run_bzl(readme.parent / bzl)
        if not isinstance(rules.get(rule_name), Rule):
            raise ValueError("%s names %s, which %s does not define" % (readme, rule_name, bzl))
        out += [text[position:begin.end()], section(rules[rule_name])]
        position = end
    return "".join(out) + text[position:]


def main(argv: List[str]) -> int:
    """Checks or rewrites a README's attribute tables."""
    parser = argparse.ArgumentParser(description="Check (or, with --write, rewrite) the attribute tables "
                                     "of a README from the attribute docs of the rules its markers name.")
    parser.add_argument("readme", type=Path, help="the README, e.g. oci/README.md")
    parser.add_argument("--write", action="store_true", help="rewrite the tables in place")
    args = parser.parse_args(argv)
    # Under `bazel run`, a relative path is the caller's, not the runfiles'.
    readme = Path(os.environ.get("BUILD_WORKING_DIRECTORY", ".")) / args.readme
    try:
        text = readme.read_text()
        wanted = generate(readme, text)
    except (OSError, ValueError) as error:
        print("attribute_docs: %s" % error, file=sys.stderr)
        return 1
    if args.write:
        readme.write_text(wanted)
    elif wanted != text:
        print("attribute_docs: %s's attribute tables differ from the rules' docs; "
              "./bazelw run //oci/private:attribute_docs -- --write %s rewrites them"
              % (args.readme, args.readme), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
