"""Values of the distroless base that the image's config sets, as data.

Read by the image target: the environment, the user it runs as and where
third-party packages go (on Debian 12's python3.11 sys.path, tested in
//debian/tests:runtime_test).
"""

# Environment every container of the image starts with.
BASE_ENV = {
    "LANG": "C.UTF-8",
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "SSL_CERT_FILE": "/etc/ssl/certs/ca-certificates.crt",
}

# Accounts in /etc/passwd and /etc/group (NAME:UID:GID:/HOME); each has a group of
# the same name and id.
USERS = [
    "root:0:0:/root",
    "nonroot:65532:65532:/home/nonroot",
    "workload:1000:1000:/home/workload",
]

# The user the workload runs as, and its home (owned by it).
WORKLOAD_USER = "1000:1000"

WORKLOAD_HOME = "/home/workload"

# Where third-party Python packages go: on python3.11's sys.path in Debian 12.
SITE_PACKAGES = "/usr/lib/python3/dist-packages"

# The interpreter the image's entrypoint runs.
PYTHON = "/usr/bin/python3"

# Where the user's app goes (on PYTHONPATH, and the working directory).
APP_DIR = "/app"
