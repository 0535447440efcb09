"""The repositories of every architecture of debian/architectures.bzl, for the image.

    workload = use_extension("//image:repositories.bzl", "workload")
    workload.image(...)
    use_repo(workload, "debian", "meinheld", "pypi", "python")

For each architecture: its Debian packages (debian_packages), Debian's Python set up to
build for it (python_interpreter), its locked Python packages (pypi_repositories: one
universal lock, entries chosen by their markers) and the kit's meinheld (patched_sdist),
each built with that architecture's python_build. `@debian` and `@python` are the
machine Bazel runs on's (@debian names the others as `@debian//ARCH:TARGET`); `@pypi`
and `@meinheld` select by the target platform's CPU. A new entry in the table needs no
change here or in MODULE.bazel. `workload.lock` installs another universal lock the
same way (the test of markers, python/pypi/tests).
"""

load("//debian:architectures.bzl", "ARCHITECTURES", "build_architecture")
load("//debian:repositories.bzl", "debian_packages")
load("//python:interpreter.bzl", "python_interpreter")
load("//python/pypi:extension.bzl", "pypi_repositories", "python_versions")
load("//runtime/meinheld:repository.bzl", "patched_sdist", "sdist_hub")

def _workload_impl(module_ctx):
    tags = [tag for mod in module_ctx.modules if mod.is_root for tag in mod.tags.image]
    if len(tags) != 1:
        fail("workload: the root module needs exactly one workload.image(...)")
    tag = tags[0]
    build = build_architecture(module_ctx.os.arch)
    debian = {arch: "debian" if arch == build else "debian_" + arch for arch in ARCHITECTURES}
    python = {arch: "python" if arch == build else "python_" + arch for arch in ARCHITECTURES}
    for arch in ARCHITECTURES:
        debian_packages(
            name = debian[arch],
            architecture = arch,
            architectures = debian if arch == build else {},
            lock = tag.debian_lock,
            user_lock = tag.user_debian_lock,
        )
        python_interpreter(
            name = python[arch],
            build_python = None if arch == build else "@python//:python_build",
            debian = "@%s//:lock.json" % debian[arch],
        )
    pythons = {arch: "@%s//:python_build" % name for arch, name in python.items()}
    versions = python_versions(json.decode(module_ctx.read(tag.debian_lock)))
    pypi_repositories(module_ctx, "pypi", tag.requirements_lock, pythons, versions)
    for arch, python in pythons.items():
        patched_sdist(
            name = "meinheld_" + arch,
            python = python,
            requirements_lock = tag.requirements_lock,
            source = tag.meinheld_source,
        )
    sdist_hub(name = "meinheld", repositories = {arch: "meinheld_" + arch for arch in ARCHITECTURES})
    for mod in module_ctx.modules:
        for lock in mod.tags.lock:
            pypi_repositories(module_ctx, lock.name, lock.requirements_lock, pythons, versions)

workload = module_extension(
    implementation = _workload_impl,
    doc = "The image's per-architecture repositories (see this file's docstring).",
    tag_classes = {
        "image": tag_class(attrs = {
            "debian_lock": attr.label(mandatory = True, doc = "The Debian lock (debian/packages.lock.json), with every architecture's packages."),
            "user_debian_lock": attr.label(mandatory = True, doc = "What the user's requirements_debian.txt adds (requirements_debian_lock.json)."),
            "requirements_lock": attr.label(mandatory = True, doc = "The image's universal Python lock (requirements_lock.txt)."),
            "meinheld_source": attr.label(mandatory = True, doc = "The kit's meinheld: its source lock (runtime/meinheld/source.json)."),
        }),
        "lock": tag_class(attrs = {
            "name": attr.string(mandatory = True, doc = "The hub's name."),
            "requirements_lock": attr.label(mandatory = True, doc = "Another universal lock, installed for every architecture as the image's is."),
        }),
    },
)
