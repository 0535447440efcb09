"""The parser corpus (corpus/*.json) against the reference: gunicorn's sync worker
serving the same echo app. The sync worker answers one request per connection and
closes, so each case's bytes are written, the client ends its side of the stream, and
only the VERDICT on the first request is compared, for every case about framing
("smuggling": true): rejected (a 4xx/5xx, or closed without an answer) or accepted,
and then the first request's environ and body must equal the corpus's first expected
request. A case marked "reference": "differs: <reason>" is reported, not compared.
Cases not about framing are not compared (gunicorn may legitimately differ there:
lower-case methods, limits, Host...); their verdicts are printed for information.
"""

import unittest
from typing import Optional, Tuple

import corpus
import reference
import support

CASES = corpus.load()


def judge(case: corpus.Case, outcome: corpus.Outcome) -> Tuple[str, Optional[str]]:
    """(gunicorn's verdict, the difference from CASE's or None) for the first request."""
    found = corpus.verdict(outcome)
    first = outcome.first
    if found == "accepted" and first is not None and first.environ is not None:
        declared = first.environ.get("CONTENT_LENGTH", "")
        if declared.isdigit() and len(first.environ["body"]) < int(declared):
            found = "rejected"  # served a body cut short by the client's end of stream: incomplete
    expected = "accepted" if case.requests else "rejected"
    if found != expected:
        if first is not None and first.environ is None:
            seen = "%d (%s)" % (first.status, reference.page_reason(first.body))
        else:
            seen = corpus.describe_verdict(outcome)
        return found, "gunicorn sync: %s, the corpus: %s" % (seen, expected)
    if found == "accepted":
        differences = corpus.compare_request(0, case.requests[0], first.environ)
        if differences:
            return found, "gunicorn sync accepted it too, but " + "; ".join(differences)
    return found, None


class ReferenceTest(support.ServerTestCase):
    def test_smuggling_verdicts_agree(self) -> None:
        server = support.start_gunicorn(self, "sync", app="echo:app")
        agreed, differs, others = 0, [], []
        for case in CASES:
            outcome = corpus.exchange(server.port, case.send)
            found, difference = judge(case, outcome)
            if not case.smuggling:
                if difference:
                    others.append("%s (%s)" % (case.name, found))
                continue
            if case.reference:
                differs.append("%s: %s; %s" % (case.name, difference or "gunicorn now agrees", case.reference))
                continue
            with self.subTest(case=case.name):
                if difference:
                    self.fail("%s/%s (%s):\n%s" % (case.group, case.name, case.why, difference))
                agreed += 1
        smuggling = sum(1 for case in CASES if case.smuggling)
        print("\ngunicorn sync: %d of %d smuggling cases compared agree on the first request's verdict"
              % (agreed, smuggling - len(differs)))
        print("marked 'differs' (%d), not compared:\n  %s" % (len(differs), "\n  ".join(differs)))
        print("not about framing, verdicts that differ (%d of %d, not compared): %s"
              % (len(others), len(CASES) - smuggling, ", ".join(others)))
        self.assertTrue(server.alive(), server.stderr_text()[-3000:])


if __name__ == "__main__":
    unittest.main()
