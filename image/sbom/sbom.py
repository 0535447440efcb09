"""Writes an SPDX 2.3 JSON software bill of materials for an image's Debian packages and wheels.

Debian packages come from the lock (name, version, sha256 of the .deb) and their
copyright files (licence: the DEP-5 `License:` fields of the Files paragraphs when
the file is machine-readable, else NOASSERTION). Python packages come from a
hash-locked requirements file and the wheels actually installed: a wheel whose sha256
is one of the locked hashes is recorded with that hash; a wheel built locally from a
source archive is recorded with the locked hashes of the source (its licence from
the wheel's METADATA either way). A wheel the kit builds from a source lock
(--source-lock, e.g. runtime/meinheld/source.json: the archive's sha256 and the kit's
patches) is recorded at VERSION+LOCAL with the archive's sha256. Output is deterministic: sorted, a fixed `created`,
and a document namespace derived from the content's sha256.
"""

import argparse
import hashlib
import json
import re
import sys
import zipfile
from email.parser import HeaderParser
from typing import Dict, List, Optional, Tuple

from debfile import Deb, DebError, parse_control, read_deb
from lockcheck import canonical_name, environment_of, parse_lock

CREATED = "1970-01-01T00:00:00Z"
DEP5_FORMAT = "copyright-format/1.0"
# Debian short licence names (DEP-5) whose SPDX identifier differs or needs a suffix.
DEBIAN_TO_SPDX = {
    "Expat": "MIT", "MIT": "MIT", "Zlib": "Zlib", "X11": "X11", "ISC": "ISC", "Apache-2.0": "Apache-2.0",
    "Artistic": "Artistic-1.0-Perl", "BSD-2-clause": "BSD-2-Clause", "BSD-3-clause": "BSD-3-Clause",
    "BSD-4-clause": "BSD-4-Clause", "PSF-2": "Python-2.0", "MPL-2.0": "MPL-2.0", "CC0-1.0": "CC0-1.0",
}
GNU = re.compile(r"^(A?GPL|LGPL|GFDL)-(\d(?:\.\d)?)(\+?)$")
CLASSIFIERS = {"MIT License": "MIT", "BSD License": "LicenseRef-BSD", "Apache Software License": "Apache-2.0",
               "Python Software Foundation License": "Python-2.0"}


class SbomError(Exception):
    """Bad input, reported as one line."""


def spdx_id(name: str) -> str:
    """Returns an SPDX licence identifier (or LicenseRef-) for a Debian short licence name."""
    if name in DEBIAN_TO_SPDX or name.upper() in {k.upper() for k in DEBIAN_TO_SPDX}:
        return DEBIAN_TO_SPDX.get(name) or next(v for k, v in DEBIAN_TO_SPDX.items() if k.upper() == name.upper())
    gnu = GNU.match(name)
    if gnu:
        version = gnu.group(2) if "." in gnu.group(2) else gnu.group(2) + ".0"
        return "%s-%s-%s" % (gnu.group(1), version, "or-later" if gnu.group(3) else "only")
    return "LicenseRef-" + re.sub(r"[^A-Za-z0-9.-]", "-", name)


def dep5_licence(text: str) -> str:
    """Returns the SPDX expression for a DEP-5 copyright file, or NOASSERTION."""
    paragraphs = [dict((k.lower(), v) for k, v in parse_control(p)) for p in text.split("\n\n")]
    if not paragraphs or DEP5_FORMAT not in paragraphs[0].get("format", ""):
        return "NOASSERTION"
    expressions = set()
    for paragraph in paragraphs:
        if "files" not in paragraph or "license" not in paragraph:
            continue
        words = paragraph["license"].splitlines()[0].replace(",", " ").split()
        if "with" in (w.lower() for w in words):
            words = ["-".join(words)]
        tokens = [w.upper() if w.lower() in ("and", "or") else spdx_id(w) for w in words]
        if tokens:
            expressions.add(" ".join(tokens))
    if not expressions:
        return "NOASSERTION"
    if len(expressions) == 1:
        return expressions.pop()
    return " AND ".join("(%s)" % e if " " in e else e for e in sorted(expressions))


def deb_copyright(deb: Deb, debs: Dict[str, Deb]) -> str:
    """Returns the text of a package's copyright file (following a doc-directory link)."""
    wanted = "usr/share/doc/%s/copyright" % deb.name
    for info, content in deb.members():
        name = info.name.lstrip("./")
        if name == wanted and info.isfile():
            return content.decode("utf-8", "replace")
        if name == "usr/share/doc/" + deb.name and info.issym() and info.linkname in debs and info.linkname != deb.name:
            return deb_copyright(debs[info.linkname], debs)
    return ""


def wheel_licence(metadata: Dict[str, List[str]]) -> Tuple[str, str]:
    """Returns (SPDX expression or NOASSERTION, comment) from a wheel's METADATA fields."""
    if metadata.get("License-Expression"):
        return metadata["License-Expression"][0], ""
    classifiers = [c.split("::")[-1].strip() for c in metadata.get("Classifier", []) if c.startswith("License ::")]
    mapped = sorted({CLASSIFIERS[c] for c in classifiers if c in CLASSIFIERS})
    comment = "; ".join(["License: " + v for v in metadata.get("License", []) if v] + ["Classifier: " + c for c in classifiers])
    return (" AND ".join(mapped) if mapped else "NOASSERTION"), comment


def read_wheel(path: str) -> Tuple[Dict[str, List[str]], str]:
    """Returns a wheel's METADATA fields and its sha256."""
    with open(path, "rb") as handle:
        digest = hashlib.sha256(handle.read()).hexdigest()
    try:
        with zipfile.ZipFile(path) as archive:
            name = next((n for n in archive.namelist() if re.match(r"^[^/]+\.dist-info/METADATA$", n)), None)
            if name is None:
                raise SbomError("%s: no .dist-info/METADATA" % path)
            message = HeaderParser().parsestr(archive.read(name).decode("utf-8", "replace"))
    except zipfile.BadZipFile as error:
        raise SbomError("%s: %s" % (path, error)) from None
    fields: Dict[str, List[str]] = {}
    for key, value in message.items():
        fields.setdefault(key, []).append(str(value).strip())
    return fields, digest


def element(kind: str, name: str) -> str:
    """Returns a valid SPDX element id."""
    return "SPDXRef-%s-%s" % (kind, re.sub(r"[^A-Za-z0-9.-]", "-", name))


def deb_packages(lock: dict, sets: List[str], debs: Dict[str, Deb]) -> List[dict]:
    """Returns SPDX packages for the lock's packages in sets."""
    packages = []
    for entry in lock["packages"]:
        if not set(entry["sets"]) & set(sets):
            continue
        deb = debs.get(entry["name"])
        if deb is None:
            raise SbomError("no .deb given for locked package %s" % entry["name"])
        if deb.field("Version") != entry["version"]:
            raise SbomError("%s: the .deb is version %s, the lock says %s" % (entry["name"], deb.field("Version"), entry["version"]))
        packages.append({
            "SPDXID": element("deb", entry["name"]), "name": entry["name"], "versionInfo": entry["version"],
            "downloadLocation": "NOASSERTION", "filesAnalyzed": False, "supplier": "Organization: Debian",
            "checksums": [{"algorithm": "SHA256", "checksumValue": entry["sha256"]}],
            "licenseConcluded": "NOASSERTION", "licenseDeclared": dep5_licence(deb_copyright(deb, debs)),
            "copyrightText": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl",
                              "referenceLocator": "pkg:deb/debian/%s@%s?arch=%s&distro=debian-%s" % (entry["name"], entry["version"].replace(":", "%3A"), entry["architecture"], lock["release"])}],
        })
    return packages


def source_locked(sources: List[dict]) -> Tuple[Dict[str, Tuple[str, List[str]]], Dict[str, str]]:
    """The source locks as lock entries (name -> (VERSION+LOCAL, [archive sha256])), and a
    comment for each."""
    locked, comments = {}, {}
    for source in sources:
        key = canonical_name(source["name"])
        locked[key] = ("%s+%s" % (source["version"], source["local_version"]), [source["sha256"]])
        comments[key] = "built by the kit from %s %s's source archive (the checksum is the archive's) with %d patches: %s%s" % (
            source["name"], source["version"], len(source["patches"]), ", ".join(source["patches"]),
            "; and the kit's own %s in place of %s" % (", ".join(source["sources"]), ", ".join(source["replaces"]))
            if source.get("sources") else "")
    return locked, comments


def wheel_packages(locked: Dict[str, Tuple[str, List[str]]], wheels: List[str],
                   comments: Optional[Dict[str, str]] = None) -> List[dict]:
    """Returns SPDX packages for the installed wheels, checked against the lock: each wheel
    is locked at its version, and each locked package has its wheel. COMMENTS: a comment
    per package built from source by the kit."""
    packages = []
    for path in wheels:
        metadata, digest = read_wheel(path)
        name, version = metadata["Name"][0], metadata["Version"][0]
        key = canonical_name(name)
        if key not in locked:
            raise SbomError("%s: %s is not in the requirements lock" % (path, name))
        if locked[key][0] != version:
            raise SbomError("%s: wheel is %s %s, the lock says %s" % (path, name, version, locked[key][0]))
        hashes = [digest] if digest in locked[key][1] else locked[key][1]
        licence, comment = wheel_licence(metadata)
        package = {
            "SPDXID": element("pypi", key), "name": name, "versionInfo": version,
            "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
            "checksums": [{"algorithm": "SHA256", "checksumValue": h} for h in hashes],
            "licenseConcluded": "NOASSERTION", "licenseDeclared": licence, "copyrightText": "NOASSERTION",
            "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER", "referenceType": "purl", "referenceLocator": "pkg:pypi/%s@%s" % (key, version)}],
        }
        if comments and key in comments:
            package["comment"] = comments[key]
        elif digest not in locked[key][1]:
            package["comment"] = "built locally from the locked source archive; checksums are the lock's hashes of that source"
        if comment:
            package["licenseComments"] = comment
        packages.append(package)
    missing = sorted(set(locked) - {canonical_name(p["name"]) for p in packages})
    if missing:
        raise SbomError("locked but given no wheel: %s" % ", ".join(missing))
    return packages


def document(name: str, packages: List[dict]) -> dict:
    """Returns the SPDX document; its namespace is the sha256 of everything else in it."""
    packages = sorted(packages, key=lambda p: p["SPDXID"])
    if len({p["SPDXID"] for p in packages}) != len(packages):
        raise SbomError("a package is listed twice")
    doc = {
        "spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT", "name": name,
        "creationInfo": {"created": CREATED, "creators": ["Tool: python-workload-kit-sbom"]},
        "packages": packages,
        "relationships": [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": p["SPDXID"]} for p in packages],
    }
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True).encode()).hexdigest()
    doc["documentNamespace"] = "https://spdx.org/spdxdocs/%s-%s" % (re.sub(r"[^A-Za-z0-9.-]", "-", name), digest)
    return doc


def main(argv: List[str]) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog=__doc__.split("\n", 2)[2], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="SPDX JSON file to write")
    parser.add_argument("--name", required=True, help="the document's name (the image)")
    parser.add_argument("--lock", required=True, help="debian/packages.lock.json")
    parser.add_argument("--set", action="append", default=[], help="lock sets to include (default: image)")
    parser.add_argument("--deb", action="append", default=[], help="a locked .deb (for its copyright file)")
    parser.add_argument("--requirements", help="hash-locked requirements file")
    parser.add_argument("--wheel", action="append", default=[], help="an installed wheel (needs --requirements)")
    parser.add_argument("--source-lock", action="append", default=[], help="a package the kit builds from source (JSON)")
    args = parser.parse_args(argv)
    try:
        with open(args.lock) as handle:
            lock = json.load(handle)
        debs = {}
        for path in args.deb:
            deb = read_deb(path)
            debs[deb.name] = deb
        packages = deb_packages(lock, args.set or ["image"], debs)
        if args.wheel:
            if not args.requirements:
                raise SbomError("--wheel needs --requirements")
            with open(args.requirements) as handle:
                locked, problems = parse_lock(handle.read(), args.requirements, environment_of(lock))
            if problems:
                raise SbomError("; ".join(problems))
            sources = []
            for path in args.source_lock:
                with open(path) as handle:
                    sources.append(json.load(handle))
            built, comments = source_locked(sources)
            packages += wheel_packages({**locked, **built}, args.wheel, comments)
        doc = document(args.name, packages)
        with open(args.out, "w") as out:
            out.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    except (SbomError, DebError, OSError, ValueError, KeyError) as error:
        print("sbom: %s" % error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
