"""What the third-party layer holds: the locked packages and the server launcher."""

load("@pypi//:requirements.bzl", "requirement")

THIRD_PARTY = [
    requirement("greenlet"),
    requirement("gunicorn"),
    requirement("meinheld"),
    "//runtime:workload_server",
]
