"""Debian version comparison (Debian Policy 5.6.12) and dependency-field parsing."""

import re
from typing import List, NamedTuple, Optional, Tuple


def _order(char: str) -> int:
    """Sort weight of one non-digit character: '~' first, then end, letters, others."""
    if char == "~":
        return -1
    if char.isalpha():
        return ord(char)
    return ord(char) + 256


def _compare_part(a: str, b: str) -> int:
    """Compares an upstream version or revision string the way dpkg does."""
    while a or b:
        a_text = re.match(r"[^0-9]*", a).group()
        b_text = re.match(r"[^0-9]*", b).group()
        a, b = a[len(a_text):], b[len(b_text):]
        for i in range(max(len(a_text), len(b_text))):
            x = _order(a_text[i]) if i < len(a_text) else 0
            y = _order(b_text[i]) if i < len(b_text) else 0
            if x != y:
                return -1 if x < y else 1
        a_num = re.match(r"[0-9]*", a).group()
        b_num = re.match(r"[0-9]*", b).group()
        a, b = a[len(a_num):], b[len(b_num):]
        if int(a_num or 0) != int(b_num or 0):
            return -1 if int(a_num or 0) < int(b_num or 0) else 1
    return 0


def _split(version: str) -> Tuple[int, str, str]:
    epoch, _, rest = version.rpartition(":") if ":" in version else ("0", "", version)
    upstream, _, revision = rest.rpartition("-") if "-" in rest else (rest, "", "0")
    return int(epoch), upstream, revision


def compare(a: str, b: str) -> int:
    """Returns -1, 0 or 1 as Debian version a sorts before, equal to or after b."""
    (ea, ua, ra), (eb, ub, rb) = _split(a), _split(b)
    if ea != eb:
        return -1 if ea < eb else 1
    return _compare_part(ua, ub) or _compare_part(ra, rb)


def satisfies(version: str, relation: Optional[str], wanted: Optional[str]) -> bool:
    """Tells whether version meets a dependency's relation (e.g. '>=', '2.34')."""
    if relation is None or wanted is None:
        return True
    c = compare(version, wanted)
    return {"<<": c < 0, "<=": c <= 0, "=": c == 0, ">=": c >= 0, ">>": c > 0}[relation]


class Alternative(NamedTuple):
    """One alternative of a dependency clause: name, optional relation and version."""

    name: str
    relation: Optional[str]
    version: Optional[str]


_ALTERNATIVE = re.compile(r"^\s*([a-z0-9][a-z0-9+.-]*)(?::[a-z0-9-]+)?\s*(?:\(\s*(<<|<=|=|>=|>>)\s*([^)\s]+)\s*\))?\s*(?:\[[^]]*\])?\s*$")


def parse_depends(field: str) -> List[List[Alternative]]:
    """Parses a Depends/Pre-Depends field into clauses of alternatives."""
    clauses = []
    for clause in filter(None, (c.strip() for c in field.split(","))):
        alternatives = []
        for text in clause.split("|"):
            match = _ALTERNATIVE.match(text)
            if not match:
                raise ValueError("cannot parse dependency %r" % text.strip())
            alternatives.append(Alternative(*match.groups()))
        clauses.append(alternatives)
    return clauses
