"""PEP 508 environment markers: which entries of a universal lock hold on a platform.

A universal lock (uv pip compile --universal) may end an entry with a marker:

    greenlet==3.5.6 ; platform_machine == 'aarch64' --hash=sha256:...

`split_requirement` takes the marker out of an entry, `marker_environment` gives the
marker variables of CPython on Linux (glibc) for a machine, and `evaluate_marker` says
whether a marker holds there. Starlark has no recursion, so a marker is read into tokens,
its comparisons evaluated, and its `and`/`or`/parentheses reordered by shunting-yard into
postfix, which a stack evaluates. The file is also valid Python 3: markers_test.py runs
it with plain python3.
"""

# Legacy spellings that packaging still accepts, and the PEP 508 variables.
_ALIASES = {
    "os.name": "os_name",
    "sys.platform": "sys_platform",
    "platform.version": "platform_version",
    "platform.machine": "platform_machine",
    "platform.python_implementation": "platform_python_implementation",
    "python_implementation": "platform_python_implementation",
}

_VARIABLES = [
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
    "extra",
]

# Variables whose values compare as PEP 440 versions.
_VERSION_VARIABLES = ["python_version", "python_full_version", "implementation_version"]

# Version suffixes and their order (a final release is 4): dev < a < b < rc < final < post.
_PHASES = [
    ("preview", 3),
    ("alpha", 1),
    ("beta", 2),
    ("post", 5),
    ("dev", 0),
    ("pre", 3),
    ("rev", 5),
    ("rc", 3),
    ("a", 1),
    ("b", 2),
    ("c", 3),
    ("r", 5),
]

def marker_environment(machine, python_version, python_full_version):
    """The marker variables of CPython on Linux with glibc.

    Args:
      machine: the kernel's name of the CPU (uname -m), e.g. "x86_64" or "aarch64".
      python_version: major.minor, e.g. "3.13".
      python_full_version: the full version, e.g. "3.13.5".

    Returns:
      A dict from each PEP 508 variable to its value.
    """
    return {
        "platform_machine": machine,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "implementation_version": python_full_version,
        "platform_python_implementation": "CPython",
        "python_version": python_version,
        "python_full_version": python_full_version,
        "platform_release": "",
        "platform_version": "",
        "extra": "",
    }

def debian_python_versions(python, packages):
    """The Python versions markers see for a Debian lock's Python.

    Args:
      python: the lock's "python", major.minor, e.g. "3.13".
      packages: the lock's packages (dicts with "name" and "version").

    Returns:
      (python_version, python_full_version): PYTHON and the upstream version of the
      lock's libpythonX.Y package ("" if the packages hold none).
    """
    for package in packages:
        if package["name"] == "libpython" + python:
            return python, package["version"].split(":")[-1].split("-")[0].split("+")[0]
    return python, ""

def split_requirement(entry):
    """Separates the marker from a lock entry.

    Args:
      entry: one entry, continuation lines joined with spaces, e.g.
        "name==1.0 ; platform_machine == 'aarch64' --hash=sha256:...".

    Returns:
      (the entry without its marker, e.g. "name==1.0 --hash=sha256:...", the marker's
      text or "" if it has none).
    """
    semicolon = entry.find(";")
    if semicolon < 0:
        return entry, ""
    end = len(entry)
    quote = ""
    for i in range(semicolon + 1, len(entry)):
        c = entry[i]
        if quote:
            if c == quote:
                quote = ""
        elif c == "'" or c == "\"":
            quote = c
        elif c == "-" and entry[i:i + 2] == "--" and entry[i - 1] in " \t":
            end = i
            break
    rest = entry[end:].strip()
    requirement = entry[:semicolon].strip()
    if rest:
        requirement = requirement + " " + rest
    return requirement, entry[semicolon + 1:end].strip()

def _tokens(marker):
    """Splits a marker into (kind, text) tokens: str, var, op, and, or, (, ).

    Returns:
      (tokens, error).
    """
    tokens = []
    skip = 0
    for i in range(len(marker)):
        if i < skip:
            continue
        c = marker[i]
        if c in " \t":
            continue
        if c == "(" or c == ")":
            tokens.append((c, c))
        elif c == "'" or c == "\"":
            end = marker.find(c, i + 1)
            if end < 0:
                return None, "unterminated string at column %d" % (i + 1)
            tokens.append(("str", marker[i + 1:end]))
            skip = end + 1
        elif c in "=!<>~":
            op = ""
            for candidate in ["===", "==", "!=", "<=", ">=", "~=", "<", ">"]:
                if not op and marker[i:i + len(candidate)] == candidate:
                    op = candidate
            if not op:
                return None, "unknown operator at column %d" % (i + 1)
            tokens.append(("op", op))
            skip = i + len(op)
        elif c.isalnum() or c == "_" or c == ".":
            end = len(marker)
            for j in range(i, len(marker)):
                if not (marker[j].isalnum() or marker[j] == "_" or marker[j] == "."):
                    end = j
                    break
            word = marker[i:end]
            skip = end
            if word == "and" or word == "or":
                tokens.append((word, word))
            elif word == "in":
                if tokens and tokens[-1][0] == "not":
                    tokens[-1] = ("op", "not in")
                else:
                    tokens.append(("op", "in"))
            elif word == "not":
                tokens.append(("not", word))
            else:
                name = _ALIASES.get(word, word)
                if name not in _VARIABLES:
                    return None, "unknown variable %r" % word
                tokens.append(("var", name))
        else:
            return None, "unexpected character %r at column %d" % (c, i + 1)
    for kind, _ in tokens:
        if kind == "not":
            return None, "'not' without 'in'"
    return tokens, ""

def _version(text, wildcard):
    """Parses a PEP 440 version (simply: release numbers and up to 3 suffixes; a local label is ignored).

    Args:
      text: the version.
      wildcard: whether a trailing ".*" is allowed (it then has no suffix).

    Returns:
      (release numbers, [phase, number, phase, number...] of its suffixes, whether it
      ends in ".*"), or None if `text` is no version.
    """
    text = text.strip().lower()
    plus = text.find("+")
    if plus >= 0:
        text = text[:plus]  # a local version label: ignored
    star = False
    if wildcard and text.endswith(".*"):
        star = True
        text = text[:-2]
    size = len(text)
    for i in range(len(text)):
        if not (text[i].isdigit() or text[i] == "."):
            size = i
            break
    release_text = text[:size]
    if release_text.endswith(".") and size < len(text):
        release_text = release_text[:-1]
    release = []
    for part in release_text.split("."):
        if not part.isdigit():
            return None
        release.append(int(part.lstrip("0") or "0"))
    rest = text[size:]
    suffixes = []
    for _ in range(3):
        if not rest:
            break
        if rest[0] in "._-":
            rest = rest[1:]
        phase = -1
        for name, order in _PHASES:
            if phase < 0 and rest.startswith(name):
                phase = order
                rest = rest[len(name):]
        if phase < 0:
            return None
        if rest and rest[0] in "._-" and len(rest) > 1 and rest[1].isdigit():
            rest = rest[1:]
        digits = len(rest)
        for i in range(len(rest)):
            if not rest[i].isdigit():
                digits = i
                break
        suffixes += [phase, int(rest[:digits].lstrip("0") or "0")]
        rest = rest[digits:]
    if rest or (star and suffixes):
        return None
    return release, suffixes, star

def _compare(a, b, pad):
    """-1, 0 or 1 as int list `a` sorts before, with, or after `b`, the shorter padded by repeating `pad`."""
    for i in range(max(len(a), len(b))):
        x = a[i] if i < len(a) else pad[i % len(pad)]
        y = b[i] if i < len(b) else pad[i % len(pad)]
        if x < y:
            return -1
        if x > y:
            return 1
    return 0

def _compare_versions(a, b):
    """-1, 0 or 1 as parsed version `a` is older than, equal to, or newer than `b`."""
    order = _compare(a[0], b[0], [0])
    if order != 0:
        return order
    return _compare(a[1], b[1], [4, 0])  # no suffix: a final release

def _prefix_matches(version, prefix):
    """Whether the release numbers of `version` start with the list `prefix` (zero-padded)."""
    release = version[0] + [0] * len(prefix)
    return release[:len(prefix)] == prefix

def _has_phase(version, low, high):
    """Whether parsed `version` has a suffix of phase `low` to `high` (0-3: pre-release, 5: post)."""
    for i in range(0, len(version[1]), 2):
        if version[1][i] >= low and version[1][i] <= high:
            return True
    return False

def _version_op(left, op, right):
    """`left op right` for versions (right is the specifier's side).

    Returns:
      (result, error); result is None when either side is no version.
    """
    have = _version(left, False)
    want = _version(right, op == "==" or op == "!=")
    if have == None or want == None:
        return None, ""
    if want[2]:
        matches = _prefix_matches(have, want[0])
        return (matches if op == "==" else not matches), ""
    order = _compare_versions(have, want)
    if op == "==":
        return order == 0, ""
    if op == "!=":
        return order != 0, ""

    # PEP 440: <V takes no pre-release of V, >V no post-release (V a final release here).
    of_final = not want[1] and _compare(have[0], want[0], [0]) == 0
    if op == "<":
        return order < 0 and not (of_final and _has_phase(have, 0, 3)), ""
    if op == "<=":
        return order <= 0, ""
    if op == ">":
        return order > 0 and not (of_final and _has_phase(have, 5, 5)), ""
    if op == ">=":
        return order >= 0, ""
    if op == "~=":
        if len(want[0]) < 2:
            return False, "'~=' needs at least two release numbers, not %r" % right
        return order >= 0 and _prefix_matches(have, want[0][:-1]), ""
    return None, ""  # === and in: compared as strings

def _normalize_extra(name):
    """The PEP 685 form of an extra's name."""
    return name.lower().replace("_", "-").replace(".", "-")

def _comparison(left, op, right, environment):
    """Evaluates one `left op right`; left and right are ("var" or "str", text) tokens.

    Returns:
      (bool, error).
    """
    values = []
    variables = []
    for kind, text in [left, right]:
        if kind == "var":
            if text not in environment:
                return False, "the environment has no %r" % text
            values.append(environment[text])
            variables.append(text)
        else:
            values.append(text)
    a, b = values[0], values[1]
    if "extra" in variables:
        a, b = _normalize_extra(a), _normalize_extra(b)
    if [name for name in variables if name in _VERSION_VARIABLES]:
        result, error = _version_op(a, op, b)
        if error or result != None:
            return result, error
    if op == "==" or op == "===":
        return a == b, ""
    if op == "!=":
        return a != b, ""
    if op == "<":
        return a < b, ""
    if op == "<=":
        return a <= b, ""
    if op == ">":
        return a > b, ""
    if op == ">=":
        return a >= b, ""
    if op == "in":
        return a in b, ""
    if op == "not in":
        return a not in b, ""
    return False, "%r needs versions, not %r and %r" % (op, a, b)

def evaluate_marker(marker, environment):
    """Whether a PEP 508 marker holds in an environment.

    Args:
      marker: the marker, e.g. "platform_machine == 'aarch64' and python_version < '3.14'";
        an empty one holds.
      environment: a dict of marker variables (see marker_environment).

    Returns:
      (bool, error): error is "" or one line naming the marker and what is wrong with it
      (the bool is then False).
    """
    tokens, error = _tokens(marker)
    items = []  # booleans (evaluated comparisons), "and", "or", "(", ")"
    skip = 0
    for i in range(len(tokens or [])):
        if error:
            break
        if i < skip:
            continue
        kind, text = tokens[i]
        if kind == "var" or kind == "str":
            if i + 2 >= len(tokens) or tokens[i + 1][0] != "op" or tokens[i + 2][0] not in ["var", "str"]:
                error = "expected a comparison after %r" % text
                break
            value, error = _comparison(tokens[i], tokens[i + 1][1], tokens[i + 2], environment)
            items.append(value)
            skip = i + 3
        elif kind == "op":
            error = "%r without a variable or string before it" % text
        else:
            items.append(kind)

    # Check the order of items, then shunting-yard them into postfix and evaluate that.
    depth = 0
    operand = True  # whether a value or "(" comes next
    for item in items:
        if error:
            break
        if item == "(" or item == True or item == False:
            if not operand:
                error = "expected 'and', 'or' or ')' before %s" % ("'('" if item == "(" else "a comparison")
            depth += 1 if item == "(" else 0
            operand = item == "("
        elif operand:
            error = "expected a comparison or '(' before %r" % item
        elif item == ")":
            depth -= 1
            if depth < 0:
                error = "unbalanced ')'"
        else:
            operand = True
    if not error and items and operand:
        error = "incomplete: it ends in %r" % items[-1]
    if not error and depth != 0:
        error = "unbalanced '('"
    if error:
        return False, "invalid marker %r: %s" % (marker, error)
    if not items:
        return True, ""

    precedence = {"or": 1, "and": 2}
    postfix = []
    pending = []
    for item in items:
        if item == "and" or item == "or":
            for _ in range(len(pending)):
                if pending[-1] == "(" or precedence[pending[-1]] < precedence[item]:
                    break
                postfix.append(pending.pop())
            pending.append(item)
        elif item == "(":
            pending.append(item)
        elif item == ")":
            for _ in range(len(pending)):
                top = pending.pop()
                if top == "(":
                    break
                postfix.append(top)
        else:
            postfix.append(item)
    for _ in range(len(pending)):
        postfix.append(pending.pop())

    stack = []
    for item in postfix:
        if item == "and" or item == "or":
            b = stack.pop()
            a = stack.pop()
            stack.append((a and b) if item == "and" else (a or b))
        else:
            stack.append(item)
    return stack[0], ""
