"""Downloads what patched_sdist needs, with pip and sha256-checked, for the repository rule.

Usage: fetch.py SOURCE_JSON REQUIREMENTS_LOCK OUT_DIR
Writes OUT_DIR/sdist/NAME-VERSION.tar.gz (the source archive SOURCE_JSON pins) and
installs SOURCE_JSON's build_requires, at the versions and hashes REQUIREMENTS_LOCK
holds, into OUT_DIR/build_deps. pip finds both through its own configuration.
"""

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import List


def locked_lines(lock: str, names: List[str]) -> str:
    """The lock's entries (name==version with their hashes) for NAMES."""
    entries = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*==\S+(?: \\\n\s+--hash=sha256:[0-9a-f]{64})+)", lock, re.M)
    wanted = {re.sub(r"[-_.]+", "-", n).lower() for n in names}
    chosen = [e for e in entries if re.sub(r"[-_.]+", "-", e.split("==")[0]).lower() in wanted]
    if len(chosen) != len(wanted):
        sys.exit("fetch.py: %s must all be locked in the requirements lock" % ", ".join(sorted(wanted)))
    return "\n".join(chosen) + "\n"


def pip(*args: str) -> None:
    """Runs pip with this interpreter, quietly; exits with its message if it fails."""
    done = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
                          capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit("fetch.py: pip %s failed:\n%s%s" % (args[0], done.stdout, done.stderr))


def main(argv: List[str]) -> int:
    """Entry point."""
    source_json, lock, out = Path(argv[0]), Path(argv[1]), Path(argv[2])
    source = json.loads(source_json.read_text())
    requirements = out / "requirements"
    requirements.mkdir(parents=True)
    (requirements / "sdist.txt").write_text("%s==%s --hash=sha256:%s\n" % (source["name"], source["version"], source["sha256"]))
    (requirements / "build.txt").write_text(locked_lines(lock.read_text(), source["build_requires"]))
    pip("download", "--no-deps", "--no-binary", ":all:", "--require-hashes", "-r", str(requirements / "sdist.txt"),
        "-d", str(out / "sdist"))
    pip("install", "--no-deps", "--only-binary", ":all:", "--require-hashes", "-r", str(requirements / "build.txt"),
        "--target", str(out / "build_deps"))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
