"""A bounded fuzz run: corpus requests mutated (mutants.py) with a fixed seed, at most
MAX_MUTANTS of them and MAX_SECONDS of wall time, whichever comes first. Each mutant
is written (in one to four writes, the client then ending its side of the stream) to
the kit's meinheld under gunicorn (gworker.Worker, the echo app) and to the reference,
gunicorn's sync worker with the same app; the requests after the first are judged by
gunicorn's own parser in this process (reference.py: the sync worker closes after one).

It fails on:
- crash: the meinheld worker replaced, or a traceback, segfault or timeout in its log;
- hang: meinheld neither answered nor closed within corpus.CLOSE_BOUND s of the end;
- smuggling: meinheld served a request that the reference refuses for a framing reason
  (reference.is_framing; the two RFC-allowed choices of reference.tolerated aside);
- framing: both served request N but with another method, path or body; meinheld
  served request N where the reference still waits for bytes, or after the connection
  should have closed; or meinheld waited for bytes where the reference saw request N
  complete; or meinheld answered anything after an error.
Other differences are counted, not failures: meinheld stricter (it refuses what the
reference accepts), lenient on something that is not framing (a limit, a method...),
or request 1 mapped to another method or path (absolute-form, a method's case...).

FUZZ_SEED, FUZZ_MUTANTS and FUZZ_SECONDS in the environment override the bounds,
FUZZ_SHOW how many findings and examples are printed (5).
"""

import os
import random
import time
import unittest
from collections import Counter
from dataclasses import dataclass
from typing import List, Optional, Tuple

import corpus
import mutants
import reference
import support

SEED = int(os.environ.get("FUZZ_SEED", "22"))
MAX_MUTANTS = int(os.environ.get("FUZZ_MUTANTS", "1500"))
MAX_SECONDS = float(os.environ.get("FUZZ_SECONDS", "60"))
MAX_SOURCE = 4096
SHOWN = int(os.environ.get("FUZZ_SHOW", "5"))


@dataclass
class Finding:
    """A failure (kind, what happened) on one mutant."""

    kind: str
    detail: str
    data: bytes
    operators: List[str]

    def __str__(self) -> str:
        shown = self.data if len(self.data) <= 400 else self.data[:400] + b"..."
        return "%s: %s\n    operators: %s\n    bytes: %r" % (self.kind, self.detail, ", ".join(self.operators), shown)


def _path(path: str) -> str:
    """PATH_INFO compared: an empty path (gunicorn, absolute-form without one) is "/"."""
    return path or "/"


def _shown(method: str, path: str, body: bytes) -> str:
    return "%s %s body %r" % (method, path, body[:60])


def _live_first(data: bytes, live: corpus.Outcome) -> Tuple[str, Optional[reference.Request], str, bool]:
    """The sync worker's verdict on request 1: (end, the request if accepted, reason, framing)."""
    first = live.first
    if first is not None and first.environ is not None:
        env = first.environ
        declared = env.get("CONTENT_LENGTH", "")
        if declared.isdigit() and len(env["body"]) < int(declared):
            return "incomplete", None, "", False  # served a body cut short by the end of stream
        return "accepted", reference.Request(env["REQUEST_METHOD"], env["PATH_INFO"],
                                             env["body"].encode("latin-1"), reference.head_of(data)), "", False
    if first is not None:
        reason = reference.page_reason(first.body) or "status %d" % first.status
        return "rejected", None, reason, reference.is_framing(reason, reference.head_of(data))
    return ("incomplete" if live.closed else "no answer"), None, "", False


def judge(data: bytes, ours: corpus.Outcome, live: corpus.Outcome,
          parsed: reference.Parse) -> Tuple[str, Optional[str], Optional[str]]:
    """(category, failure kind or None, detail) for one mutant."""
    if not ours.closed:
        return "hang", "hang", "no close %.0f s after the client's end of stream" % corpus.CLOSE_BOUND
    served = ours.served
    after = ours.responses[len(served):]
    if len(after) > 1:
        return "failure", "framing", "answered %s after the error %s" % (after[1].describe(), after[0].describe())
    live_end, live_request, live_reason, live_framing = _live_first(data, live)
    mapped = None  # a difference in method or path on request 1: a mapping, not framing
    for i, environ in enumerate(served):
        if i == 0:
            accepted, end, reason, framing = live_request, live_end, live_reason, live_framing
            head = reference.head_of(data)
        else:
            accepted = parsed.requests[i] if i < len(parsed.requests) else None
            end, reason, framing, head = parsed.end, parsed.reason, parsed.framing, parsed.head
        if accepted is not None:
            body = environ["body"].encode("latin-1")
            ours_seen = _shown(environ["REQUEST_METHOD"], environ["PATH_INFO"], body)
            theirs_seen = _shown(accepted.method, accepted.path, accepted.body)
            if body != accepted.body:
                return "failure", "framing", "request %d: meinheld served %s, the reference %s" % (
                    i + 1, ours_seen, theirs_seen)
            if (environ["REQUEST_METHOD"], _path(environ["PATH_INFO"])) != (accepted.method, _path(accepted.path)):
                if i:  # the requests before were the same: this one starts elsewhere
                    return "failure", "framing", "request %d: meinheld served %s, the reference %s" % (
                        i + 1, ours_seen, theirs_seen)
                mapped = "request 1: meinheld %s, the reference %s" % (ours_seen, theirs_seen)
            continue
        if end == "rejected":
            if not framing:
                return "lenient (not framing)", None, reason
            why = reference.tolerated(reason, head)
            if why:
                return "tolerated", None, why
            return "failure", "smuggling", "meinheld served request %d (%s); the reference refuses it: %s" % (
                i + 1, environ.get("PATH_INFO"), reason)
        if end == "incomplete":
            return "failure", "framing", "meinheld served request %d (%s); the reference waits for more bytes" % (
                i + 1, environ.get("PATH_INFO"))
        if end == "no answer":
            return "reference hang", None, "gunicorn sync neither answered nor closed"
        return "failure", "framing", "meinheld served request %d (%s) after the connection should have closed" % (
            i + 1, environ.get("PATH_INFO"))
    n = len(served)
    reference_has = live_request is not None if n == 0 else n < len(parsed.requests)
    if not after and reference_has:
        if not (served and ours.responses[n - 1].head.get("connection", "").lower() == "close"):
            return "failure", "framing", (
                "meinheld waited for bytes after %d request(s); the reference saw request %d complete" % (n, n + 1))
        return "meinheld closed (Connection)", None, ""
    if mapped:
        return "method or path differs (not framing)", None, mapped
    if after and reference_has:
        return "meinheld stricter", None, after[0].describe()
    return "agree", None, ""


class FuzzTest(support.ServerTestCase):
    def test_mutants(self) -> None:
        ours = support.start_gunicorn(self, "gworker.Worker", "--keep-alive", "30", app="echo:app",
                                      env={"GWORKER_MAX_BODY": str(corpus.MAX_BODY)})
        theirs = support.start_gunicorn(self, "sync", app="echo:app")
        support.wait_until(lambda: len(support.children(ours.pid)) == 1, 10, 0.05, "one meinheld worker")
        workers = support.children(ours.pid)
        sources = sorted({case.data for case in corpus.load() if len(case.data) <= MAX_SOURCE})
        rng = random.Random(SEED)
        counts: Counter = Counter()
        findings: List[Finding] = []
        mismatches: List[str] = []
        lenient: List[str] = []
        start = time.monotonic()
        count = 0
        while count < MAX_MUTANTS and time.monotonic() - start < MAX_SECONDS:
            data, operators, pieces = mutants.mutant(rng, sources)
            count += 1
            mine = corpus.exchange(ours.port, pieces)
            live = corpus.exchange(theirs.port, pieces)
            parsed = reference.parse(data)
            if (live.first is not None and live.first.environ is not None) != bool(parsed.requests) \
                    and _live_first(data, live)[0] != "incomplete":
                mismatches.append("%r: live %s, in-process %s %s" % (
                    data[:200], corpus.describe_verdict(live), parsed.end, parsed.reason))
            category, kind, detail = judge(data, mine, live, parsed)
            counts[category] += 1
            if kind:
                findings.append(Finding(kind, detail, data, operators))
            elif category in ("lenient (not framing)", "method or path differs (not framing)") \
                    and len(lenient) < SHOWN:
                lenient.append("%s: %r" % (detail, data[:160]))
            if support.children(ours.pid) != workers:
                findings.append(Finding("crash", "the meinheld worker %s was replaced by %s" % (
                    workers, support.children(ours.pid)), data, operators))
                break
        elapsed = time.monotonic() - start
        log = ours.stderr_text()
        for marker in ("Traceback", "Segmentation", "WORKER TIMEOUT", "was sent SIG"):
            if marker in log:
                findings.append(Finding("crash", "%r in meinheld's log:\n%s" % (marker, log[-2000:]), b"", []))
        print("\nfuzz: seed %d, %d mutants in %.1f s (bounds: %d mutants, %.0f s), %d sources" % (
            SEED, count, elapsed, MAX_MUTANTS, MAX_SECONDS, len(sources)))
        print("outcomes: " + ", ".join("%s %d" % item for item in sorted(counts.items())))
        if lenient:
            print("differences not about framing (first %d):\n  %s" % (
                len(lenient), "\n  ".join(lenient)))
        if mismatches:
            print("gunicorn sync and gunicorn's parser in-process disagreed on request 1 (%d; first %d):\n  %s" % (
                len(mismatches), min(SHOWN, len(mismatches)), "\n  ".join(mismatches[:SHOWN])))
        if findings:
            print("findings: %d; the first %d:\n  %s" % (
                len(findings), min(SHOWN, len(findings)), "\n  ".join(str(f) for f in findings[:SHOWN])))
        self.assertTrue(ours.alive() and theirs.alive())
        if findings:
            self.fail("%d findings (the first printed above), seed %d: %s" % (
                len(findings), SEED, dict(Counter(f.kind for f in findings))))


if __name__ == "__main__":
    unittest.main()
