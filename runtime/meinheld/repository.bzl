"""patched_sdist: a Python package built from its locked source archive with the kit's patches."""

load("//python/pypi:extension.bzl", "execute_shown", "install_wheel")

_DOC = """A Python package built from its locked source archive with the kit's patches.

Reads SOURCE_JSON (name, version, sha256 of the source archive, local_version, the
patches in order, the kit's own sources with where they go and the upstream files they
replace, build_requires): downloads the archive with pip (sha256-checked), applies each
patch, deletes the replaced files and copies the kit's sources (src/) in, installs the build requirements at the versions
//:requirements_lock.txt pins, and builds a wheel with the image's Python against the
Debian sysroot (@debian//:python_build). The repository then looks like a
locked wheel repository: `pkg` (py_library of site-packages), `dist_info`, `whl`.
"""

def _patched_sdist_impl(rctx):
    source = json.decode(rctx.read(rctx.attr.source))
    python = str(rctx.path(rctx.attr.python))  # with Debian's pip, setuptools and wheel
    rctx.report_progress("downloading %s %s and its build requirements" % (source["name"], source["version"]))
    execute_shown(rctx, [python, rctx.path(rctx.attr._fetch), rctx.path(rctx.attr.source), rctx.path(rctx.attr.requirements_lock), "fetched"], "patched_sdist %s: fetch.py" % rctx.name)

    # The source tree is the repository's root: rctx.patch works there.
    rctx.extract(
        "fetched/sdist/%s-%s.tar.gz" % (source["name"], source["version"]),
        stripPrefix = "%s-%s" % (source["name"], source["version"]),
    )
    for name in source["patches"]:
        rctx.report_progress("applying " + name)
        rctx.patch(rctx.attr.source.same_package_label("patches/" + name), strip = 1)
    for path in source["replaces"]:
        rctx.delete(path)
    for name in source["sources"]:
        rctx.file(
            "%s/%s" % (source["sources_into"], name),
            rctx.read(rctx.attr.source.same_package_label("src/" + name)),
            executable = False,
        )
    rctx.report_progress("building %s %s+%s" % (source["name"], source["version"], source["local_version"]))
    execute_shown(rctx, [python, "-m", "pip", "--disable-pip-version-check", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-w", "dist", "."], "patched_sdist %s: pip wheel" % rctx.name, {"PYTHONPATH": str(rctx.path("fetched/build_deps"))})
    wheels = [p for p in rctx.path("dist").readdir() if p.basename.endswith(".whl")]
    if len(wheels) != 1:
        fail("patched_sdist %s: expected one wheel in dist/" % rctx.name)
    rctx.delete("fetched")
    rctx.delete("build")
    install_wheel(rctx, "dist/" + wheels[0].basename, "patched_sdist of %s" % rctx.attr.source)

patched_sdist = repository_rule(
    implementation = _patched_sdist_impl,
    doc = _DOC,
    attrs = {
        "source": attr.label(mandatory = True, allow_single_file = [".json"], doc = "The source lock (e.g. //runtime/meinheld:source.json); its patches are in patches/ beside it, the kit's own sources in src/."),
        "requirements_lock": attr.label(mandatory = True, allow_single_file = True, doc = "The hash-locked requirements the build requirements are taken from."),
        "python": attr.label(mandatory = True, allow_single_file = True, doc = "The interpreter to build with (@debian//:python_build)."),
        "_fetch": attr.label(default = "//runtime/meinheld:fetch.py", allow_single_file = True),
    },
)
