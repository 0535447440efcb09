#!/usr/bin/env python3
"""The pipeline reads one way: no stage loads, depends on or names a stage after it.

The stages are README.md's folder table, in its order (buildroot/ ... deploy/). In each
stage's BUILD and .bzl files, every label (//STAGE..., and @REPO//... through REPOSITORIES,
the stage whose rule makes each repository) must belong to the stage itself or to one
before it; visibility lists are exempt (they name who may depend, not what is depended
on). testing/, the shared test helpers, may name no stage at all. Prints each arrow that
runs back up, and exits 1 if there is one.

Usage: .ci/pipeline.py
"""

import re
import sys
from pathlib import Path
from typing import Iterator, List, Optional, Tuple

KIT = Path(__file__).resolve().parent.parent
# Which stage's repository rule makes each repository MODULE.bazel names.
REPOSITORIES = {
    "debian": "debian",
    "image_settings": "image",
    "meinheld": "runtime",
    "pypi": "python",
    "pypi_machines": "python",
    "pypi_test": "python",
    "pypi_tools": "python",
    "python": "python",
}
OUTSIDE = {"bazel_tools", "platforms", "rules_python"}  # modules, not stages
SHARED = "testing"
LABEL = re.compile(r"""["'](?:@@?([A-Za-z0-9_.~+-]*))?//([A-Za-z0-9_.-]*)""")
VISIBILITY = re.compile(r"visibility\s*=\s*\[[^\]]*\]", re.S)


class PipelineError(Exception):
    """A file this check cannot read as it should; the message is one line."""


def stages() -> List[str]:
    """The folders of README.md's table, in order, from buildroot/ to deploy/."""
    text = (KIT / "README.md").read_text(encoding="utf-8")
    folders = re.findall(r"^\| `([a-z_]+)/` \|", text, re.M)
    if "buildroot" not in folders or "deploy" not in folders:
        raise PipelineError("README.md's folder table names no buildroot/ ... deploy/")
    return folders[folders.index("buildroot"):folders.index("deploy") + 1]


def references(path: Path) -> Iterator[Tuple[int, str, str]]:
    """(line, stage or repository, text) of each label in a BUILD or .bzl file, outside visibility lists."""
    text = path.read_text(encoding="utf-8")
    text = VISIBILITY.sub(lambda m: "\n" * m.group(0).count("\n"), text)
    for match in LABEL.finditer(text):
        repository, package = match.group(1), match.group(2)
        line = text.count("\n", 0, match.start()) + 1
        yield line, ("@" + repository) if repository else package.split("/")[0], text.splitlines()[line - 1].strip()


def target_stage(name: str, order: List[str]) -> Optional[str]:
    """The stage a reference belongs to (None: not a stage)."""
    if name.startswith("@"):
        repository = name[1:]
        if repository in OUTSIDE or repository == "" or not repository.islower():
            return None  # a module, the main repository, or a placeholder (@NAME//) in a doc
        if repository not in REPOSITORIES:
            raise PipelineError(f"@{repository}: not in .ci/pipeline.py's REPOSITORIES: name the stage whose rule makes it")
        return REPOSITORIES[repository]
    return name if name in order else None


def arrows(order: List[str]) -> List[str]:
    """Every reference that runs back up the pipeline, as a line to print."""
    found = []
    for stage in order + [SHARED]:
        rank = order.index(stage) if stage in order else -1
        for path in sorted((KIT / stage).rglob("*")):
            if not (path.name == "BUILD.bazel" or path.suffix == ".bzl"):
                continue
            for line, name, text in references(path):
                target = target_stage(name, order)
                if target is not None and target != stage and order.index(target) > rank:
                    found.append(f"{path.relative_to(KIT)}:{line}: {stage}/ -> {target}/: {text}")
    return found


def main() -> int:
    """Entry point: the exit status."""
    if len(sys.argv) > 1:
        print(__doc__.strip(), file=sys.stderr if sys.argv[1] not in ("-h", "--help") else sys.stdout)
        return 0 if sys.argv[1] in ("-h", "--help") else 2
    try:
        order = stages()
        found = arrows(order)
    except (OSError, PipelineError) as error:
        print(f"pipeline.py: {error}", file=sys.stderr)
        return 1
    for line in found:
        print(line)
    print(f"pipeline: {' -> '.join(order)} (and {SHARED}/ before all): "
          + (f"{len(found)} arrows back up" if found else "no arrow back up"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
