"""What the third-party layer holds: the locked packages and the server launcher."""

load("@pypi//:requirements.bzl", "requirement")

THIRD_PARTY = [
    requirement("greenlet"),
    requirement("gunicorn"),
    requirement("meinheld"),
    "//runtime:workload_server",
]

# Left out of the third-party layer: packages' own test suites. greenlet's includes a
# C++ test extension that needs libstdc++, which the image does not have (and nothing
# in the image imports it).
THIRD_PARTY_EXCLUDED = ["greenlet/tests"]
